"""Provider accounts in the admin: owners enter them, keys are checked, secrets never come back."""

import pytest
from django.db import connection
from django.urls import reverse

from apps.credentials.models import ProviderAccount
from apps.merchants.models import MerchantStaff
from tests.factories import MerchantStaffFactory
from tests.support.wechatpay_fake import generate_key, private_pem, public_pem

ADD = reverse("admin:credentials_provideraccount_add")


@pytest.fixture(scope="module")
def keys():
    return generate_key(), generate_key()


@pytest.fixture
def owner(merchant):
    return MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.OWNER).user


@pytest.fixture
def clerk(merchant):
    return MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user


def wechat_form(keys, **changes):
    merchant_key, platform_key = keys
    data = {
        "provider": "wechatpay",
        "enabled": "on",
        "app_id": "wxd678efh567hg6787",
        "merchant_number": "1900000109",
        "key_serial": "5157F09EFDC096DE15EBE81A47057A72",
        "private_key": private_pem(merchant_key),
        "api_key": "0123456789abcdef0123456789abcdef",
        "provider_public_key": public_pem(platform_key),
        "provider_key_id": "PUB_KEY_ID_0001",
        "api_base": "",
    }
    data.update(changes)
    return data


def test_the_owner_adds_an_account_whose_secrets_are_stored_encrypted(
    client, owner, merchant, keys
):
    client.force_login(owner)

    answer = client.post(ADD, wechat_form(keys))

    assert answer.status_code == 302, answer.context["adminform"].form.errors
    account = ProviderAccount.objects.get()
    assert account.merchant == merchant
    assert account.api_key == "0123456789abcdef0123456789abcdef"
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key, api_key FROM credentials_provideraccount")
        stored_key, stored_api_key = cursor.fetchone()
    assert "PRIVATE KEY" not in stored_key
    assert "0123456789abcdef" not in stored_api_key


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "private_key",
            "-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----",
            "does not parse",
        ),
        ("private_key", "not base64 at all!", "does not parse"),
        ("provider_public_key", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", "does not parse"),
        ("api_key", "too-short", "32 characters"),
        ("merchant_number", "", "needs the merchant number"),
    ],
)
def test_a_key_that_does_not_parse_is_a_form_error(client, owner, keys, field, value, message):
    client.force_login(owner)

    answer = client.post(ADD, wechat_form(keys, **{field: value}))

    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert ProviderAccount.objects.count() == 0


def test_the_change_form_never_shows_a_secret_and_empty_fields_keep_them(client, owner, keys):
    client.force_login(owner)
    client.post(ADD, wechat_form(keys))
    account = ProviderAccount.objects.get()
    url = reverse("admin:credentials_provideraccount_change", args=[account.pk])

    page = client.get(url).content.decode()
    answer = client.post(url, wechat_form(keys, private_key="", api_key="", app_id="wx-new"))

    assert "0123456789abcdef" not in page
    assert "PRIVATE KEY" not in page
    assert "sha256:" in page
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.app_id == "wx-new"
    assert account.api_key == "0123456789abcdef0123456789abcdef"
    assert account.private_key == private_pem(keys[0]).strip()


def test_staff_who_are_not_the_owner_see_the_account_but_not_its_secrets(
    client, owner, clerk, keys
):
    client.force_login(owner)
    client.post(ADD, wechat_form(keys))
    account = ProviderAccount.objects.get()
    url = reverse("admin:credentials_provideraccount_change", args=[account.pk])
    client.force_login(clerk)

    page = client.get(url)
    refused = client.post(url, wechat_form(keys, app_id="wx-clerk"))

    assert page.status_code == 200
    assert "PRIVATE KEY" not in page.content.decode()
    assert client.get(ADD).status_code == 403
    assert refused.status_code == 403
    account.refresh_from_db()
    assert account.app_id == "wxd678efh567hg6787"


def test_another_merchants_account_is_404(client, owner, keys, other_merchant):
    account = ProviderAccount.objects.create(
        merchant=other_merchant,
        provider="alipay",
        app_id="2021000000000001",
        private_key=private_pem(keys[0]),
        provider_public_key=public_pem(keys[1]),
    )
    client.force_login(owner)

    answer = client.get(reverse("admin:credentials_provideraccount_change", args=[account.pk]))

    assert answer.status_code == 404
