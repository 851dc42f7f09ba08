"""Every API route answers 401 to an invalid token — also when a valid session cookie comes along
(with session authentication first, the cookie used to let such requests through)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config import api_urls
from tests.factories import MerchantFactory, MerchantStaffFactory

from .test_isolation import ROUTES, _walk

PATTERNS = {pattern.name: pattern for _path, pattern in _walk(api_urls.urlpatterns)}


def _url(name, store):
    pattern = PATTERNS[name]
    kwargs = {}
    for path, found in _walk(api_urls.urlpatterns):
        if found is pattern:
            for part in path.split("<")[1:]:
                converter, _, key = part.split(">")[0].rpartition(":")
                kwargs[key] = store if key == "store" else (1 if converter == "int" else "x")
    return reverse(f"api:{name}", kwargs=kwargs)


@pytest.fixture
def signed_in(db):
    merchant = MerchantFactory()
    client = APIClient()
    client.force_login(MerchantStaffFactory(merchant=merchant).user)
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    return client, merchant


@pytest.mark.parametrize(("name", "method"), ROUTES, ids=lambda value: str(value))
def test_an_invalid_token_is_401_on_every_route(signed_in, name, method):
    client, merchant = signed_in

    response = getattr(client, method)(_url(name, merchant.slug), {}, format="json")

    assert response.status_code == 401, (name, method, response.content[:200])
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token.", "code": "authentication_failed"}


def test_the_session_alone_still_works(signed_in):
    client, _merchant = signed_in
    client.credentials()

    assert client.get(reverse("api:merchant-order-list")).status_code == 200
