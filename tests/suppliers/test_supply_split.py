"""分账 with supplied goods: the supplier's released share is one more receiver, after the
platform fee and the distributors, within the provider's cap; never while a share is frozen."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.commissions.payment_splits import payment_split_due_order_ids, payment_split_order
from apps.commissions.services import commissions_release_due
from apps.dropship.models import Shipment
from apps.dropship.services import shipment_ship
from apps.dropship.supply_money import supply_release_due
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, SupplierWallet
from apps.orders.services import order_complete
from apps.payments.models import PaymentSplit
from tests.factories import UserFactory
from tests.services.flows import pay, place

from .conftest import pick

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(merchant, pool):
    """2 × ¥99.00 of tea (supply ¥60.00) sold without a distributor, shipped and completed."""
    tea = pick(merchant, pool)
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(tea, 2)])
    pay(merchant=merchant, customer=customer, order=order)
    shipment_ship(
        shipment=Shipment.objects.get(order=order), carrier="SF", tracking_number="1", actor=None
    )
    order.refresh_from_db()
    order_complete(order=order)
    order.refresh_from_db()
    return order


def test_a_frozen_supplier_share_holds_the_split(completed):
    later = completed.completed_at + timedelta(days=8)
    commissions_release_due(now=later)

    assert completed.pk not in payment_split_due_order_ids(now=later)
    assert payment_split_order(order_id=completed.pk, now=later) == 0
    assert not PaymentSplit.objects.exists()


def test_the_supplier_receives_its_share_within_the_cap(merchant, supplier, completed, settings):
    settings.FENXIAO_SPLIT_MAX_PERCENT = D("30")
    later = completed.completed_at + timedelta(days=8)
    supply_release_due(now=later)
    assert completed.pk in payment_split_due_order_ids(now=later)

    assert payment_split_order(order_id=completed.pk, now=later) == 3

    assert sorted(
        PaymentSplit.objects.values_list("receiver", "supplier_id", "amount", "status")
    ) == [
        ("merchant", None, D("138.60"), "done"),
        ("platform", None, D("1.98"), "done"),
        ("supplier", supplier.pk, D("57.42"), "done"),  # the 30 % cap (59.40) less the fee
    ]
    wallet = SupplierWallet.objects.get(merchant=merchant, supplier=supplier)
    assert (wallet.available, wallet.withdrawn) == (D("62.58"), D("57.42"))
    assert Journal.objects.filter(key__startswith="split:SPL-").count() == 1
    assert payment_split_order(order_id=completed.pk, now=later) == 0
    assert ledger_breaches() == []
