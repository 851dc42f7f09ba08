"""The supplier's money under real concurrency (PostgreSQL, committed transactions, threads
released by a barrier): a payment notified many times at once owes the supplier once, and two
withdrawals of the whole balance at once take it once."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.core.errors import DomainError
from apps.dropship.models import Shipment, SupplyShare
from apps.dropship.services import shipment_ship
from apps.dropship.supply_money import supply_release_due
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, SupplierWallet
from apps.orders.services import order_complete
from apps.payments.services import payment_handle_notification, payment_start
from apps.withdrawals import tasks as withdrawal_tasks
from apps.withdrawals.models import Withdrawal
from apps.withdrawals.services import supplier_withdrawal_request
from tests.factories import UserFactory
from tests.services.flows import pay, place, signed_notification
from tests.suppliers.conftest import make_supplier, make_supply_product, pick

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture(autouse=True)
def payouts_enqueued(monkeypatch):
    monkeypatch.setattr(withdrawal_tasks.withdrawal_payout_task, "delay", lambda *args: None)


@pytest.fixture
def tea(merchant):
    supplier = make_supplier("tea-farm")
    return supplier, pick(merchant, make_supply_product(supplier))


def test_a_payment_notified_many_times_at_once_owes_the_supplier_once(merchant, tea):
    supplier, sku = tea
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body, headers = signed_notification(payment)

    outcomes = race(
        [
            lambda: payment_handle_notification(provider="sandbox", body=body, headers=headers)
            for _ in range(5)
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None] * 5
    assert Journal.objects.filter(kind=Journal.Kind.SUPPLY_OWED).count() == 1
    assert SupplyShare.objects.get().amount == D("120.00")
    assert SupplierWallet.objects.get(supplier=supplier).frozen == D("120.00")
    assert ledger_breaches() == []


def test_two_withdrawals_of_the_whole_balance_at_once_one_succeeds(merchant, tea):
    supplier, sku = tea
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    pay(merchant=merchant, customer=customer, order=order)
    shipment_ship(
        shipment=Shipment.objects.get(order=order), carrier="SF", tracking_number="1", actor=None
    )
    order.refresh_from_db()
    order_complete(order=order)
    order.refresh_from_db()
    assert supply_release_due(now=order.completed_at + timedelta(days=8)) == 1

    outcomes = race(
        [
            lambda: supplier_withdrawal_request(
                merchant=merchant,
                supplier=supplier,
                amount="120.00",
                account="alipay:tea",
                actor=None,
            )
            for _ in range(2)
        ]
    )

    refused = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(refused) == 1
    assert isinstance(refused[0], DomainError)
    assert refused[0].code == "insufficient_balance"
    assert Withdrawal.objects.count() == 1
    wallet = SupplierWallet.objects.get(supplier=supplier)
    assert (wallet.available, wallet.withdrawing) == (D("0.00"), D("120.00"))
    assert ledger_breaches() == []
