"""Suppliers withdraw what a store owes them through the same withdrawal machinery, and read their
statement with running balances in their back office; the store's margins count the supply cost
the refunds left."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.errors import DomainError
from apps.dropship.selectors import order_margins
from apps.dropship.supply_money import supply_release_due
from apps.finance.supplier_statement import supplier_statement
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, SupplierWallet
from apps.orders.services import order_complete
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import (
    supplier_withdrawal_request,
    withdrawal_approve,
    withdrawal_pay,
    withdrawal_reject,
    withdrawal_settings_update,
)
from tests.factories import MerchantFactory, MerchantStaffFactory, UserFactory
from tests.services.flows import pay, place

from .conftest import make_supplier, make_supplier_staff, pick

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ledger_stays_sound(request):
    yield
    assert ledger_breaches() == []


@pytest.fixture
def released(merchant, supplier, pool):
    """The tea farm's 2 × 60.00 of one order, released: 120.00 available with the store."""
    tea = pick(merchant, pool)
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(tea, 2)])
    pay(merchant=merchant, customer=customer, order=order)
    from apps.dropship.models import Shipment
    from apps.dropship.services import shipment_ship

    parcel = Shipment.objects.get(order=order)
    shipment_ship(shipment=parcel, carrier="SF", tracking_number="SF1", actor=None)
    order.refresh_from_db()
    order_complete(order=order)
    order.refresh_from_db()
    assert supply_release_due(now=order.completed_at + timedelta(days=8)) == 1
    withdrawal_settings_update(
        merchant=merchant, fee_percent=D("1.00"), tax_percent=D("0"), minimum_amount=D("10.00")
    )
    return order


def wallet(merchant, supplier):
    row = SupplierWallet.objects.get(merchant=merchant, supplier=supplier)
    return (row.frozen, row.available, row.withdrawing, row.withdrawn)


def ask(merchant, supplier, amount="100.00", token=""):
    return supplier_withdrawal_request(
        merchant=merchant,
        supplier=supplier,
        amount=amount,
        account="alipay:tea-farm",
        actor=None,
        request_token=token,
    )


def test_a_supplier_withdraws_its_available_balance_and_is_paid_once(
    merchant, supplier, released, staff_user
):
    withdrawal = ask(merchant, supplier)

    assert (withdrawal.supplier_id, withdrawal.distributor_id) == (supplier.pk, None)
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (
        D("100.00"),
        D("1.00"),
        D("99.00"),
    )
    assert wallet(merchant, supplier) == (D("0"), D("20.00"), D("100.00"), D("0"))

    withdrawal_approve(merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user)
    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == "paid"
    assert withdrawal_pay(withdrawal_id=withdrawal.pk) == "paid"

    assert wallet(merchant, supplier) == (D("0"), D("20.00"), D("0.00"), D("99.00"))
    paid = Journal.objects.get(key=f"withdrawal:{withdrawal.pk}:paid")
    assert sorted((leg.account, leg.supplier_id, leg.amount) for leg in paid.entries.all()) == [
        ("merchant_payable", None, D("1.00")),
        ("supplier_withdrawing", supplier.pk, D("-100.00")),
        ("supplier_withdrawn", supplier.pk, D("99.00")),
    ]
    # The store's reconciliation matches the provider's payout with the supplier's journal.
    from django.utils import timezone

    from apps.finance.selectors import Outcome, Period, reconciliation_rows

    today = timezone.localdate()
    payouts = [
        (row["outcome"], row["provider_amount"], row["ledger_amount"])
        for row in reconciliation_rows(merchant=merchant, period=Period(start=today, end=today))
        if row["reference"] == withdrawal.idempotency_key
    ]
    assert payouts == [(Outcome.MATCHED, D("99.00"), D("99.00"))]


def test_not_a_cent_more_than_available_nor_below_the_minimum(merchant, supplier, released):
    with pytest.raises(DomainError) as too_much:
        ask(merchant, supplier, "120.01")
    assert too_much.value.code == "insufficient_balance"
    with pytest.raises(DomainError) as too_little:
        ask(merchant, supplier, "9.99")
    assert too_little.value.code == "below_minimum"
    assert not Withdrawal.objects.exists()
    ask(merchant, supplier, "120.00")
    assert wallet(merchant, supplier) == (D("0"), D("0.00"), D("120.00"), D("0"))


def test_the_same_request_token_makes_one_withdrawal(merchant, supplier, released):
    first = ask(merchant, supplier, token="tok-1")
    again = ask(merchant, supplier, token="tok-1")

    assert again.pk == first.pk
    assert Withdrawal.objects.count() == 1


def test_a_rejection_gives_the_money_back(merchant, supplier, released, staff_user):
    withdrawal = ask(merchant, supplier)
    withdrawal_reject(
        merchant=merchant, withdrawal_id=withdrawal.pk, actor=staff_user, reason="wrong account"
    )

    assert wallet(merchant, supplier) == (D("0"), D("120.00"), D("0.00"), D("0"))


def test_another_store_owes_the_supplier_nothing(merchant, supplier, released):
    with pytest.raises(DomainError) as refused:
        ask(MerchantFactory(), supplier)
    assert refused.value.code == "insufficient_balance"
    with pytest.raises(DomainError):
        ask(merchant, make_supplier("fruit-farm"))


def test_the_statement_has_running_balances(merchant, supplier, released):
    ask(merchant, supplier, "50.00")
    rows = supplier_statement(supplier=supplier)

    assert [(row.movement, row.changes, row.balances) for row in rows] == [
        (
            "Owed to the supplier (frozen)",
            {"frozen": D("120.00")},
            {
                "frozen": D("120.00"),
                "available": D("0"),
                "withdrawing": D("0"),
                "withdrawn": D("0"),
            },
        ),
        (
            "Supplier's share released",
            {"frozen": D("-120.00"), "available": D("120.00")},
            {
                "frozen": D("0.00"),
                "available": D("120.00"),
                "withdrawing": D("0"),
                "withdrawn": D("0"),
            },
        ),
        (
            "Withdrawal requested",
            {"available": D("-50.00"), "withdrawing": D("50.00")},
            {
                "frozen": D("0.00"),
                "available": D("70.00"),
                "withdrawing": D("50.00"),
                "withdrawn": D("0"),
            },
        ),
    ]
    assert rows[0].order_number == released.number
    assert supplier_statement(supplier=make_supplier("fruit-farm")) == []


def test_the_back_office_page_shows_the_balances_and_takes_a_request(merchant, supplier, released):
    client = Client()
    client.force_login(make_supplier_staff(supplier))
    url = reverse("finance:supplier-money")

    page = client.get(url)
    assert page.status_code == 200
    assert [(w.merchant_id, w.available) for w in page.context["wallets"]] == [
        (merchant.pk, D("120.00"))
    ]
    assert len(page.context["rows"]) == 2

    refused = client.post(
        url, {"store": merchant.pk, "amount": "500.00", "account": "alipay:x", "request_token": ""}
    )
    assert refused.status_code == 400
    assert not Withdrawal.objects.exists()
    foreign = client.post(
        url,
        {"store": MerchantFactory().pk, "amount": "10.00", "account": "alipay:x"},
    )
    assert foreign.status_code == 400  # not one of its stores: absent
    assert not Withdrawal.objects.exists()

    done = client.post(url, {"store": merchant.pk, "amount": "20.00", "account": "alipay:x"})
    assert done.status_code == 302
    assert Withdrawal.objects.get().amount == D("20.00")


def test_merchant_staff_and_other_suppliers_see_nothing_of_it(merchant, supplier, released):
    url = reverse("finance:supplier-money")
    merchant_staff = Client()
    merchant_staff.force_login(MerchantStaffFactory(merchant=merchant).user)
    assert merchant_staff.get(url).status_code == 403

    other = Client()
    other.force_login(make_supplier_staff(make_supplier("fruit-farm")))
    page = other.get(url)
    assert page.status_code == 200
    assert (page.context["wallets"], page.context["rows"]) == ([], [])


def test_the_stores_margin_counts_the_supply_cost_refunds_left(
    merchant, supplier, released, monkeypatch
):
    (margin,) = order_margins(merchant=merchant)
    assert (margin.revenue, margin.supply_cost) == (D("198.00"), D("120.00"))
    assert margin.margin == margin.revenue - D("120.00") - margin.commission - margin.platform_fee

    from apps.payments import tasks as payment_tasks
    from apps.refunds.models import RefundCase
    from apps.refunds.services import RefundLineRequest, refund_approve, refund_request
    from tests.refunds.conftest import notify

    monkeypatch.setattr(payment_tasks.sandbox_deliver_refund_notification, "delay", lambda *a: None)
    case = refund_request(
        merchant=merchant,
        customer=released.customer,
        order_id=released.pk,
        kind=RefundCase.Kind.AMOUNT,
        reason="one jar broken",
        lines=[RefundLineRequest(order_line_id=released.lines.get().pk, amount=D("99.00"))],
    )
    refund_approve(merchant=merchant, case_id=case.pk, actor=None)
    case.refresh_from_db()
    assert notify(case) == "refunded"

    (margin,) = order_margins(merchant=merchant)
    assert (margin.revenue, margin.supply_cost) == (D("99.00"), D("60.00"))
    assert wallet(merchant, supplier)[1] == D("60.00")
