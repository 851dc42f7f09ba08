"""Rate limits on the sign-in, sign-up and merchant application forms."""

import pytest
import redis
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from apps.accounts import ratelimit
from apps.accounts.models import User
from apps.merchants.models import MerchantApplication
from tests.factories import PASSWORD, UserFactory

NOW = 998_200.0  # 2,600 s before the end of an hour window
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.23"
WAIT_44_MINUTES = '<li class="message message-error" role="alert">Too many attempts. Please try again in 44 minutes.</li>'  # noqa: E501


def forget_counters() -> None:
    """The cache (Redis) lives for the whole test run: drop the limits' keys, nothing else."""
    connection = redis.Redis.from_url(settings.REDIS_URL)
    for key in connection.scan_iter(match=cache.make_key("ratelimit:*")):
        connection.delete(key)


@pytest.fixture(autouse=True)
def limits(settings, monkeypatch):
    settings.FENXIAO_RATE_LIMITS = {
        "login-ip": "3/hour",
        "login-username": "3/hour",
        "signup": "2/hour",
        "merchant-apply": "1/hour",
    }
    monkeypatch.setattr(ratelimit, "clock", lambda: NOW)
    forget_counters()
    yield
    forget_counters()


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("10/min", ratelimit.Rate(limit=10, period=60)),
        ("20/hour", ratelimit.Rate(limit=20, period=3600)),
        ("5/h", ratelimit.Rate(limit=5, period=3600)),
        ("100/day", ratelimit.Rate(limit=100, period=86400)),
        ("1/s", ratelimit.Rate(limit=1, period=1)),
    ],
)
def test_rates_use_drfs_syntax(text, rate):
    assert ratelimit.Rate.parse(text) == rate


# --- sign in ----------------------------------------------------------------------------------


def sign_in(address: str, username: str, password: str) -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=address)
    return client, client.post(
        reverse("accounts:login"), {"username": username, "password": password}
    )


def test_sign_in_is_limited_per_ip(db):
    user = UserFactory()
    others = UserFactory.create_batch(3)

    guesses = [sign_in(ATTACKER, other.username, "guess")[1].status_code for other in others]
    client, refused = sign_in(ATTACKER, user.username, PASSWORD)
    spoofed = Client(REMOTE_ADDR=ATTACKER).post(
        reverse("accounts:login"),
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.1",
    )
    neighbour, allowed = sign_in(NEIGHBOUR, user.username, PASSWORD)

    assert guesses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "2600"
    page = refused.content.decode()
    assert WAIT_44_MINUTES in page
    assert 'data-test="login-form"' in page
    assert f'value="{user.username}"' in page  # what they typed is kept
    assert "Wrong username or password." not in page  # the password was not checked
    assert signed_in_user_id(client) is None
    assert spoofed.status_code == 429  # X-Forwarded-For is not trusted
    assert allowed.status_code == 302
    assert signed_in_user_id(neighbour) == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None  # set by the neighbour's sign-in only


def test_sign_in_is_limited_per_username_across_ips(db, settings):
    settings.FENXIAO_RATE_LIMITS = {**settings.FENXIAO_RATE_LIMITS, "login-ip": "100/hour"}
    victim, bystander = UserFactory(username="alice"), UserFactory()

    guesses = [
        sign_in(address, name, "guess")[1].status_code
        for address, name in [("10.0.0.1", "alice"), ("10.0.0.2", "Alice"), ("10.0.0.3", "ALICE ")]
    ]
    client, refused = sign_in("10.0.0.4", "alice", PASSWORD)
    bystander_client, allowed = sign_in("10.0.0.4", bystander.username, PASSWORD)

    assert guesses == [200, 200, 200]
    assert refused.status_code == 429
    assert WAIT_44_MINUTES in refused.content.decode()
    assert signed_in_user_id(client) is None
    victim.refresh_from_db()
    assert victim.last_login is None
    assert allowed.status_code == 302  # same IP, another account
    assert signed_in_user_id(bystander_client) == str(bystander.pk)


def test_the_refusal_is_translated(db):
    for _ in range(3):
        sign_in(ATTACKER, "nobody", "guess")

    response = Client(REMOTE_ADDR=ATTACKER, HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        reverse("accounts:login"), {"username": "nobody", "password": "guess"}
    )

    assert response.status_code == 429
    assert "尝试次数过多，请 44 分钟后再试。" in response.content.decode()


# --- sign up ----------------------------------------------------------------------------------


def sign_up(address: str, username: str):
    return Client(REMOTE_ADDR=address).post(
        reverse("accounts:signup"),
        {
            "username": username,
            "phone": "13900000000",
            "password1": "a-long-enough-pass-42",
            "password2": "a-long-enough-pass-42",
        },
    )


def test_sign_up_is_limited_per_ip(db):
    allowed = [sign_up(ATTACKER, f"new-{n}").status_code for n in range(2)]
    refused = sign_up(ATTACKER, "new-2")
    neighbour = sign_up(NEIGHBOUR, "new-3")

    assert allowed == [302, 302]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "2600"
    page = refused.content.decode()
    assert WAIT_44_MINUTES in page
    assert 'value="new-2"' in page and 'value="13900000000"' in page
    assert "a-long-enough-pass-42" not in page
    assert neighbour.status_code == 302
    assert sorted(User.objects.values_list("username", flat=True)) == ["new-0", "new-1", "new-3"]


# --- merchant application ---------------------------------------------------------------------


def apply(address: str, name: str):
    return Client(REMOTE_ADDR=address).post(
        reverse("merchants:apply"),
        {
            "username": name,
            "password1": "a-long-enough-pass-42",
            "password2": "a-long-enough-pass-42",
            "store_name": "Tea House",
            "slug": name,
            "contact_name": "Wang Fang",
            "contact_phone": "13900000000",
            "contact_email": "wang@example.com",
        },
    )


def test_merchant_applications_are_limited_per_ip(db):
    allowed = apply(ATTACKER, "shop-0")
    refused = apply(ATTACKER, "shop-1")
    neighbour = apply(NEIGHBOUR, "shop-2")

    assert allowed.status_code == 302
    assert refused.status_code == 429
    assert refused["Retry-After"] == "2600"
    page = refused.content.decode()
    assert WAIT_44_MINUTES in page
    assert 'data-test="apply-form"' in page and 'value="shop-1"' in page
    assert neighbour.status_code == 302
    assert sorted(MerchantApplication.objects.values_list("slug", flat=True)) == [
        "shop-0",
        "shop-2",
    ]
    assert sorted(User.objects.values_list("username", flat=True)) == ["shop-0", "shop-2"]
