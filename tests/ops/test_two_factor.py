"""Two-factor sign-in: always for the operator, for staff when their merchant requires it."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.merchants.models import Merchant
from tests.factories import MerchantFactory, MerchantStaffFactory, UserFactory

PASSWORD = "a-long-password-123"


def code(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def fresh_step(device):
    """Let the device accept a code again: it refuses a code it has already seen, and waits
    longer after each wrong one (django-otp's throttling) — as time passing would."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()


@pytest.fixture
def operator_two_factor(settings):
    settings.FENXIAO_OPERATOR_TWO_FACTOR = True


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


def test_the_operator_sets_up_an_authenticator_before_the_admin_opens(
    operator_two_factor, operator
):
    client = Client()
    client.force_login(operator)

    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("merchants:two-factor-setup"))

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    assert page.context["key"]

    wrong = client.post(
        reverse("merchants:two-factor-setup"), {"code": "000000", "next": "/admin/"}
    )
    assert wrong.status_code == 400
    assert client.get(reverse("admin:index")).status_code == 302

    fresh_step(device)
    right = client.post(
        reverse("merchants:two-factor-setup"), {"code": code(device), "next": "/admin/"}
    )
    assert (right.status_code, right["Location"]) == (302, "/admin/")
    assert client.get(reverse("admin:index")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_every_new_session_asks_for_a_code(operator_two_factor, operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    client.force_login(operator)

    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("merchants:two-factor-verify"))
    assert client.post(reverse("merchants:two-factor-verify"), {"code": "123"}).status_code == 400

    fresh_step(device)
    assert (
        client.post(reverse("merchants:two-factor-verify"), {"code": code(device)}).status_code
        == 302
    )
    assert client.get(reverse("admin:index")).status_code == 200
    # The same code again (a replay) opens nothing in another session.
    other = Client()
    other.force_login(operator)
    assert (
        other.post(reverse("merchants:two-factor-verify"), {"code": code(device)}).status_code
        == 400
    )


def test_staff_need_it_only_when_their_merchant_requires_it(db):
    merchant = MerchantFactory()
    staff = MerchantStaffFactory(merchant=merchant).user
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200

    Merchant.objects.filter(pk=merchant.pk).update(staff_two_factor_required=True)

    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("merchants:two-factor-setup"))
    api = client.get(reverse("api:merchant-order-list"))
    assert (api.status_code, api.json()["code"]) == (401, "otp_required")


def test_no_api_token_without_the_code(db):
    merchant = MerchantFactory(staff_two_factor_required=True)
    staff = MerchantStaffFactory(merchant=merchant).user
    staff.set_password(PASSWORD)
    staff.save(update_fields=["password"])
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client = APIClient()
    url = reverse("api:auth-token")

    refused = client.post(url, {"username": staff.username, "password": PASSWORD})
    assert (refused.status_code, refused.json()["code"]) == (400, "otp_required")
    wrong = client.post(url, {"username": staff.username, "password": PASSWORD, "otp": "000000"})
    assert wrong.status_code == 400
    assert not Token.objects.filter(user=staff).exists()

    fresh_step(device)
    granted = client.post(
        url, {"username": staff.username, "password": PASSWORD, "otp": code(device)}
    )
    assert granted.status_code == 200
    assert granted.json() == {"token": Token.objects.get(user=staff).key}
