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


@pytest.fixture(scope="session")
def alipay_server(wechat_keys):
    from tests.support.alipay_fake import FakeAlipay

    app_key, alipay_key = generate_key(), generate_key()
    fake = FakeAlipay(app_key=app_key, alipay_key=alipay_key).start()
    yield fake
    fake.stop()


@pytest.fixture
def alipay_fake(alipay_server, monkeypatch):
    from apps.payments.providers import alipay

    alipay_server.reset()
    monkeypatch.setattr(alipay, "TIMEOUT", httpx.Timeout(0.5))
    return alipay_server


@pytest.fixture
def alipay_account(merchant, alipay_fake):
    fake = alipay_fake
    return ProviderAccount.objects.create(
        merchant=merchant,
        provider=ProviderAccount.Provider.ALIPAY,
        enabled=True,
        app_id=fake.app_id,
        merchant_number=fake.seller_id,
        private_key=private_pem(fake.app_key),
        provider_public_key=public_pem(fake.alipay_key),
        api_base=fake.gateway,
    )
