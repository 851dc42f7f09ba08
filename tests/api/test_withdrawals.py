"""The withdrawal API: the distributor asks and follows; staff review; settings."""

from decimal import Decimal

import pytest

from apps.ledger.models import Wallet
from apps.withdrawals.models import Withdrawal, WithdrawalSettings
from apps.withdrawals.services import withdrawal_request
from tests.withdrawals.conftest import fund

from .conftest import api_url, client_for
from .test_queries import token_client

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def rules(merchant):
    return WithdrawalSettings.objects.create(
        merchant=merchant,
        minimum_amount=D("10.00"),
        fee_percent=D("1.50"),
        fee_free_amount=D("100.00"),
        tax_percent=D("20.00"),
        tax_threshold=D("800.00"),
    )


@pytest.fixture
def distributor(chain):
    fund(chain[3], D("1500.00"))
    return chain[3]


def test_a_distributor_requests_a_withdrawal(merchant, rules, distributor):
    client = client_for(distributor.user)

    response = client.post(
        api_url("store-withdrawal-list", store=merchant.slug),
        {"amount": "1000.00", "account": "alipay:li"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in ("amount", "fee", "tax", "net", "status")} == {
        "amount": "1000.00",
        "fee": "13.50",
        "tax": "40.00",
        "net": "946.50",
        "status": "requested",
    }
    assert [row["to_status"] for row in body["history"]] == ["requested"]
    wallet = Wallet.objects.get(distributor=distributor)
    assert (wallet.available, wallet.withdrawing) == (D("500.00"), D("1000.00"))
    detail = client.get(api_url("store-withdrawal-detail", store=merchant.slug, pk=body["id"]))
    assert detail.json() == body


@pytest.mark.parametrize(
    ("payload", "status", "expected"),
    [
        ({"amount": "1500.01", "account": "a"}, 400, {"code": "insufficient_balance"}),
        ({"amount": "9.99", "account": "a"}, 400, {"code": "below_minimum"}),
        ({"amount": "1.001", "account": "a"}, 400, "amount"),
        ({"amount": "abc", "account": "a"}, 400, "amount"),
        ({"amount": "10.00"}, 400, "account"),
    ],
)
def test_a_refused_request_is_a_clear_4xx_and_writes_nothing(
    merchant, rules, distributor, payload, status, expected
):
    response = client_for(distributor.user).post(
        api_url("store-withdrawal-list", store=merchant.slug), payload, format="json"
    )

    assert response.status_code == status
    if isinstance(expected, dict):
        assert response.json()["code"] == expected["code"]
    else:
        assert expected in response.json()
    assert Withdrawal.objects.count() == 0


def test_the_quote_shows_fee_tax_and_net(merchant, rules, distributor):
    response = client_for(distributor.user).get(
        api_url("store-withdrawal-quote", store=merchant.slug), {"amount": "1234.56"}
    )

    assert response.json() == {
        "amount": "1234.56",
        "fee": "17.01",
        "tax": "86.91",
        "net": "1130.64",
    }


def test_the_quote_is_refused_above_the_balance(merchant, rules, distributor):
    response = client_for(distributor.user).get(
        api_url("store-withdrawal-quote", store=merchant.slug), {"amount": "1500.01"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "You can withdraw at most ¥1500.00.",
        "code": "insufficient_balance",
    }


def test_staff_approve_once(merchant, staff_user, rules, distributor, monkeypatch):
    from apps.withdrawals import tasks

    monkeypatch.setattr(tasks.withdrawal_payout_task, "delay", lambda pk: None)
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="100.00", account="a"
    )
    client = client_for(staff_user)
    url = api_url("merchant-withdrawal-approve", pk=withdrawal.pk)

    first = client.post(url)
    again = client.post(url)

    assert first.status_code == 200
    assert first.json()["status"] == "approved"
    assert first.json()["reviewer"] == staff_user.pk
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"


def test_staff_reject_with_a_reason(merchant, staff_user, rules, distributor):
    withdrawal = withdrawal_request(
        merchant=merchant, distributor=distributor, amount="100.00", account="a"
    )
    client = client_for(staff_user)
    url = api_url("merchant-withdrawal-reject", pk=withdrawal.pk)

    missing = client.post(url, {}, format="json")
    rejected = client.post(url, {"reason": "Account name does not match"}, format="json")

    assert missing.status_code == 400
    assert "reason" in missing.json()
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reason"]) == (
        "rejected",
        "Account name does not match",
    )
    assert Wallet.objects.get(distributor=distributor).available == D("1500.00")


def test_settings_put_is_checked_per_field(merchant, staff_user):
    response = client_for(staff_user).put(
        api_url("merchant-withdrawal-settings"),
        {
            "minimum_amount": "5.00",
            "fee_percent": "60.00",
            "fee_free_amount": "0.00",
            "tax_percent": "40.00",
            "tax_threshold": "800.00",
            "review_required": False,
            "payout_provider": "sandbox",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "tax_percent": ["The fee and the tax together must stay below 100%."]
    }
    assert WithdrawalSettings.objects.count() == 0


@pytest.mark.parametrize("rows", [1, 6])
def test_list_queries_do_not_grow(
    merchant, staff_user, distributor, django_assert_num_queries, rows
):
    for _ in range(rows):
        withdrawal_request(merchant=merchant, distributor=distributor, amount="10.00", account="a")
    staff, own = token_client(staff_user), token_client(distributor.user)
    # token+user, staff's merchant, count, withdrawals+distributors+users, history
    with django_assert_num_queries(5):
        response = staff.get(api_url("merchant-withdrawal-list"))
    assert response.json()["count"] == rows
    # token+user, store, count, withdrawals, history
    with django_assert_num_queries(5):
        response = own.get(api_url("store-withdrawal-list", store=merchant.slug))
    assert response.json()["count"] == rows
