"""Demo: each store's account with a real provider, and share-link visits for the funnel.

The accounts hold keys generated here and made-up ids, and stay disabled: the checkout offers
only the sandbox until an operator or owner enters the store's real credentials (README,
"Connecting WeChat Pay or Alipay") and enables the account."""

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.credentials.models import ProviderAccount
from apps.dashboard.services import share_visit_record

from .world import FRUIT, TEA, DemoWorld


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def create_provider_accounts(world: DemoWorld) -> None:
    merchant_key, _merchant_public = _key_pair()
    _platform_private, platform_public = _key_pair()
    ProviderAccount.objects.create(
        merchant=world.merchants[TEA],
        provider=ProviderAccount.Provider.WECHATPAY,
        enabled=False,
        app_id="wxdemo0000000001",
        merchant_number="1900000001",
        key_serial="DEMO0000000000000000000000000001",
        private_key=merchant_key,
        api_key=secrets.token_hex(16),
        provider_public_key=platform_public,
        provider_key_id="PUB_KEY_ID_DEMO0000000000000001",
    )
    app_key, _app_public = _key_pair()
    _alipay_private, alipay_public = _key_pair()
    ProviderAccount.objects.create(
        merchant=world.merchants[FRUIT],
        provider=ProviderAccount.Provider.ALIPAY,
        enabled=False,
        app_id="2021000000000001",
        merchant_number="2088000000000001",
        private_key=app_key,
        provider_public_key=alipay_public,
    )


def record_share_visits(world: DemoWorld) -> None:
    """Twelve browsers opened tea_d4's and tea_d3's links today (the funnel's first step)."""
    merchant = world.merchants[TEA]
    for index in range(12):
        distributor = world.distributors["tea_d4" if index % 3 else "tea_d3"]
        share_visit_record(
            merchant=merchant,
            invite_code=distributor.invite_code,
            device_id=f"{index:032x}",
            path=f"/s/{merchant.slug}/",
        )
