"""The finance API: the distributor's statement (JSON and CSV) and the staff's reports."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commissions.payment_splits import payment_split_order
from apps.commissions.services import commissions_release_due
from apps.ledger.models import Wallet
from apps.payments.models import Payment
from apps.payments.providers.sandbox import sandbox_record
from tests.api.conftest import api_url, client_for
from tests.factories import MerchantStaffFactory, UserFactory

from .conftest import later, make_completed

D = Decimal


def whole_period(order) -> dict[str, str]:
    return {
        "start": str(timezone.localdate(order.created_at) - timedelta(days=1)),
        "end": str(timezone.localdate(later())),
    }


def statement(user, merchant, **params):
    return client_for(user).get(api_url("store-distributor-statement", store=merchant.slug), params)


def test_the_statement_lists_every_movement_with_running_balances(final, chain, merchant):
    payment_split_order(order_id=final.pk, now=later())
    wallet = Wallet.objects.get(distributor=chain[2])

    response = statement(chain[2].user, merchant, **whole_period(final))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 8
    rows = [
        (row["movement"], row["account"], row["amount"], row["frozen"], row["available"],
         row["withdrawn"])
        for row in body["results"]
    ]  # fmt: skip
    assert rows == [
        ("Earned", "frozen", "1.66", "1.66", "0.00", "0.00"),
        ("Earned", "frozen", "1.50", "3.16", "0.00", "0.00"),
        ("Released", "frozen", "-1.66", "1.50", "0.00", "0.00"),
        ("Released", "available", "1.66", "1.50", "1.66", "0.00"),
        ("Released", "frozen", "-1.50", "0.00", "1.66", "0.00"),
        ("Released", "available", "1.50", "0.00", "3.16", "0.00"),
        ("Paid by split", "available", "-3.16", "0.00", "0.00", "0.00"),
        ("Paid by split", "withdrawn", "3.16", "0.00", "0.00", "3.16"),
    ]
    first = body["results"][0]
    assert (first["order_number"], first["level"], first["commission_kind"], first["rule"]) == (
        final.number, 2, "commission", "Merchant default percent"
    )  # fmt: skip
    assert first["explanation"] == (
        "Merchant default percent: 5.00% of 33.33 paid → 1.66 (rounded down)"
    )
    assert body["results"][-1]["level"] is None
    last = body["results"][-1]
    assert (last["frozen"], last["available"], last["withdrawn"]) == (
        str(wallet.frozen), str(wallet.available), str(wallet.withdrawn)
    )  # fmt: skip
    assert body["opening"] == {
        "frozen": "0.00", "available": "0.00", "withdrawing": "0.00", "withdrawn": "0.00"
    }  # fmt: skip


def test_a_later_page_and_a_later_period_start_from_the_right_balances(final, chain, merchant):
    payment_split_order(order_id=final.pk, now=later())
    period = whole_period(final)

    page = statement(chain[2].user, merchant, page=2, page_size=3, **period).json()

    assert [row["available"] for row in page["results"]] == ["1.66", "1.66", "3.16"]
    assert page["previous"] and page["next"]

    # a period that starts after the earnings: they are the opening balance
    start = str(timezone.localdate(final.created_at) + timedelta(days=1))
    body = statement(chain[2].user, merchant, start=start, end=period["end"]).json()
    assert body["opening"]["frozen"] == "3.16"
    assert [row["frozen"] for row in body["results"]][-1] == "0.00"


@pytest.mark.parametrize("orders", [1, 4])
def test_the_statement_takes_the_same_queries_for_one_or_many_movements(
    merchant, chain, lines, django_assert_num_queries, orders
):
    first = None
    for _ in range(orders):
        order = make_completed(
            merchant=merchant, customer=UserFactory(), distributor=chain[3], lines=lines[:1]
        )
        first = first or order
    client = client_for(chain[3].user)
    url = api_url("store-distributor-statement", store=merchant.slug)

    # store, distributor, opening balances, count, page
    with django_assert_num_queries(5):
        response = client.get(url, whole_period(first))

    assert response.json()["count"] == orders


def test_the_statement_csv_has_every_movement(final, chain, merchant):
    payment_split_order(order_id=final.pk, now=later())
    response = client_for(chain[1].user).get(
        api_url("store-distributor-statement-csv", store=merchant.slug), whole_period(final)
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")))
    )
    assert table[0][:4] == ["At", "Movement", "Order", "Level"]
    assert len(table) == 1 + 8
    assert table[1][1:5] == ["Earned", final.number, "3", "Merchant default percent"]
    assert table[-1][-4:] == ["0.00", "0.00", "0.00", "1.26"]


@pytest.mark.parametrize("name", ["store-distributor-statement", "store-distributor-statement-csv"])
def test_a_bad_period_is_a_clear_400(final, chain, merchant, name):
    url = api_url(name, store=merchant.slug)
    client = client_for(chain[3].user)

    backwards = client.get(url, {"start": "2026-02-01", "end": "2026-01-01"})
    assert backwards.status_code == 400
    assert backwards.json() == {"end": ["The period ends before it starts."]}
    assert client.get(url, {"start": "yesterday"}).status_code == 400
    assert client.get(url, {"start": "2024-01-01", "end": "2025-06-01"}).status_code == 400


def test_a_customer_who_is_no_distributor_gets_404(final, merchant):
    response = client_for(UserFactory()).get(
        api_url("store-distributor-statement", store=merchant.slug)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_a_distributor"


# --- the staff's reports -----------------------------------------------------------------------


@pytest.fixture
def staff(merchant):
    return MerchantStaffFactory(merchant=merchant).user


def test_the_staff_statement_has_the_period_totals(final, staff):
    response = client_for(staff).get(api_url("merchant-finance-statement"), whole_period(final))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"] == {
        "payments_in": "63.36",
        "refunds_out": "0.00",
        "platform_fees": "0.63",
        "commission_earned": "10.75",
        "commission_reversed": "0.00",
        "merchant_net": "51.98",
    }
    assert body["count"] == 8  # payment, earned, six releases
    assert body["results"][0]["kind"] == "Payment received"
    assert body["results"][0]["order_number"] == final.number


def test_the_staff_payable_lists_wallets_owed(settled, staff, chain):
    body = client_for(staff).get(api_url("merchant-finance-payable")).json()

    assert body["totals"]["payable"] == "10.75"
    assert [(row["distributor_id"], row["frozen"]) for row in body["results"]] == [
        (chain[3].pk, "6.33"), (chain[2].pk, "3.16"), (chain[1].pk, "1.26")
    ]  # fmt: skip


def test_the_staff_reconciliation_counts_each_outcome(final, staff, merchant):
    payment = Payment.objects.get(order=final)
    sandbox_record(
        merchant_id=merchant.pk, kind="payment", reference=payment.out_trade_no, amount=D("63.36")
    )
    sandbox_record(merchant_id=merchant.pk, kind="refund", reference="RF-GHOST", amount=D("5.00"))

    body = client_for(staff).get(api_url("merchant-finance-reconciliation")).json()

    assert body["counts"] == {
        "matched": 1,
        "missing_in_ledger": 1,
        "missing_at_provider": 0,
        "amount_mismatch": 0,
        "refused_notification": 0,
    }
    assert body["results"][0]["reference"] == "RF-GHOST"
    assert body["results"][0]["outcome_label"] == "Missing in the ledger"


@pytest.mark.parametrize("orders", [1, 4])
def test_the_staff_reports_take_the_same_queries_for_one_or_many_rows(
    merchant, chain, lines, staff, django_assert_num_queries, orders
):
    first = None
    for _ in range(orders):
        order = make_completed(
            merchant=merchant, customer=UserFactory(), distributor=chain[3], lines=lines[:1]
        )
        first = first or order
    commissions_release_due(now=later())

    def fresh_client():  # the staff's merchant is looked up once per request
        return client_for(type(staff).objects.get(pk=staff.pk))

    # the staff member and their merchant, count, page, totals
    with django_assert_num_queries(5):
        statement = fresh_client().get(api_url("merchant-finance-statement"), whole_period(first))
    with django_assert_num_queries(5):
        payable = fresh_client().get(api_url("merchant-finance-payable"))
    assert statement.json()["count"] == orders * 5  # payment, earned, three releases
    assert len(payable.json()["results"]) == 3
