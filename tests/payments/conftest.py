"""The WeChat Pay fake on loopback and a merchant account pointing at it."""

import httpx
import pytest

from apps.credentials.models import ProviderAccount
from apps.payments.providers import wechatpay
from tests.support.wechatpay_fake import FakeWeChatPay, generate_key, private_pem, public_pem


@pytest.fixture(scope="session")
def wechat_keys():
    return generate_key(), generate_key()


@pytest.fixture(scope="session")
def wechat_server(wechat_keys):
    merchant_key, platform_key = wechat_keys
    fake = FakeWeChatPay(merchant_key=merchant_key, platform_key=platform_key).start()
    yield fake
    fake.stop()


@pytest.fixture
def wechat_fake(wechat_server, monkeypatch):
    wechat_server.reset()
    # The client gives up long before the fake's "timeout" answers.
    monkeypatch.setattr(wechatpay, "TIMEOUT", httpx.Timeout(0.5))
    return wechat_server


@pytest.fixture
def wechat_account(merchant, wechat_fake):
    fake = wechat_fake
    return ProviderAccount.objects.create(
        merchant=merchant,
        provider=ProviderAccount.Provider.WECHATPAY,
        enabled=True,
        app_id=fake.merchant.appid,
        merchant_number=fake.merchant.mchid,
        key_serial=fake.merchant.serial,
        private_key=private_pem(fake.merchant.key),
        api_key=fake.merchant.api_key,
        provider_public_key=public_pem(fake.platform_key),
        provider_key_id=fake.platform_serial,
        api_base=fake.url,
    )
