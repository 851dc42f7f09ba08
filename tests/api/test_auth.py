"""Who may call what: anonymous callers, customers, merchant staff; session and token auth."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.merchants.models import Merchant
from tests.factories import PASSWORD

from .conftest import api_url, client_for

CUSTOMER_ONLY = ["store-cart", "store-order-list", "store-distributor-me", "store-commission-list"]
STAFF_ONLY = [
    "merchant-product-list",
    "merchant-sku-list",
    "merchant-order-list",
    "merchant-distributor-list",
    "merchant-commission-list",
    "merchant-commission-plan",
]
NOT_SIGNED_IN = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}


@pytest.mark.parametrize("name", CUSTOMER_ONLY)
def test_anonymous_callers_cannot_reach_customer_endpoints(merchant, name):
    response = client_for(None).get(api_url(name, store=merchant.slug))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == NOT_SIGNED_IN


def test_anonymous_callers_cannot_write(merchant, sku):
    client = client_for(None)
    cart = client.post(
        api_url("store-cart-item-list", store=merchant.slug),
        {"sku": sku.pk, "quantity": 1},
        format="json",
    )
    join = client.post(api_url("store-distributor-join", store=merchant.slug), {}, format="json")
    assert (cart.status_code, join.status_code) == (401, 401)


@pytest.mark.parametrize("name", STAFF_ONLY)
def test_the_back_office_is_for_merchant_staff_only(merchant, customer, name):
    assert client_for(None).get(api_url(name)).json() == NOT_SIGNED_IN
    response = client_for(customer).get(api_url(name))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You do not work for an active merchant.",
        "code": "permission_denied",
    }


def test_staff_of_a_suspended_merchant_are_refused(merchant, staff_user):
    Merchant.objects.filter(pk=merchant.pk).update(status=Merchant.Status.SUSPENDED)
    assert client_for(staff_user).get(api_url("merchant-order-list")).status_code == 403


def test_token_auth(merchant, staff_user):
    client = APIClient()
    response = client.post(
        api_url("auth-token"), {"username": staff_user.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    token = Token.objects.get(user=staff_user)
    assert response.json() == {"token": token.key}

    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(api_url("merchant-order-list")).status_code == 200

    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    refused = client.get(api_url("merchant-order-list"))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid token.", "code": "authentication_failed"}


def test_wrong_password_gets_no_token(staff_user):
    response = APIClient().post(
        api_url("auth-token"), {"username": staff_user.username, "password": "nope"}
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not Token.objects.exists()


def test_session_auth(merchant, staff_user):
    client = APIClient()
    assert client.login(username=staff_user.username, password=PASSWORD)
    assert client.get(api_url("merchant-order-list")).status_code == 200


def test_session_writes_need_the_csrf_token(merchant, customer, sku):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=customer.username, password=PASSWORD)
    response = client.post(
        api_url("store-cart-item-list", store=merchant.slug),
        {"sku": sku.pk, "quantity": 1},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
