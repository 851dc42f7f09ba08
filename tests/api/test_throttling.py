"""Rate limits on the public API endpoints that check passwords or create accounts."""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.models import User
from apps.merchants.models import MerchantApplication
from tests.factories import PASSWORD, UserFactory

from .conftest import api_url

NOW = 1_000_000.0
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.23"


def forget_throttle_history() -> None:
    """The cache (Redis) lives for the whole test run: drop the throttles' keys, nothing else."""
    connection = redis.Redis.from_url(settings.REDIS_URL)
    for key in connection.scan_iter(match=cache.make_key("throttle_*")):
        connection.delete(key)


@pytest.fixture(autouse=True)
def throttles(monkeypatch):
    # ScopedRateThrottle copied DEFAULT_THROTTLE_RATES when DRF was imported, so overriding the
    # setting would not reach it (encode/django-rest-framework#6030): patch the class instead.
    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {"auth-token": "3/min", "merchant-applications": "2/hour"},
    )
    monkeypatch.setattr(ScopedRateThrottle, "timer", lambda self: NOW)
    forget_throttle_history()
    yield
    forget_throttle_history()


def client_from(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def test_the_default_rates_come_from_settings():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "auth-token": "10000/min",  # config/settings/test.py; production defaults in base.py
        "merchant-applications": "10000/min",
        "supplier-applications": "10000/min",
    }
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_token_guessing_is_throttled_per_ip(db):
    user = UserFactory()
    attacker = client_from(ATTACKER)
    url = api_url("auth-token")

    guesses = [
        attacker.post(url, {"username": user.username, "password": f"guess-{n}"}).status_code
        for n in range(3)
    ]
    refused = attacker.post(url, {"username": user.username, "password": PASSWORD})
    spoofed = attacker.post(
        url,
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.1",
    )
    neighbour = client_from(NEIGHBOUR).post(url, {"username": user.username, "password": PASSWORD})

    assert guesses == [400, 400, 400]
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "Request was throttled. Expected available in 60 seconds.",
        "code": "throttled",
    }
    assert refused["Retry-After"] == "60"
    assert spoofed.status_code == 429  # X-Forwarded-For is not trusted
    assert neighbour.status_code == 200
    assert neighbour.json() == {"token": Token.objects.get(user=user).key}
    assert Token.objects.count() == 1  # only the neighbour's


APPLICATION = {
    "password": "a-long-enough-pass-42",
    "store_name": "Tea House",
    "contact_name": "Wang Fang",
    "contact_phone": "13900000000",
    "contact_email": "wang@example.com",
}


def apply(client: APIClient, name: str):
    return client.post(
        api_url("merchant-application-create"),
        {**APPLICATION, "username": name, "slug": name},
        format="json",
    )


def test_merchant_applications_are_throttled_per_ip(db):
    attacker = client_from(ATTACKER)

    allowed = [apply(attacker, f"shop-{n}").status_code for n in range(2)]
    refused = apply(attacker, "shop-2")
    neighbour = apply(client_from(NEIGHBOUR), "shop-3")

    assert allowed == [201, 201]
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "Request was throttled. Expected available in 3600 seconds.",
        "code": "throttled",
    }
    assert refused["Retry-After"] == "3600"
    assert neighbour.status_code == 201
    assert sorted(MerchantApplication.objects.values_list("slug", flat=True)) == [
        "shop-0",
        "shop-1",
        "shop-3",
    ]
    assert not User.objects.filter(username="shop-2").exists()
