"""Two split runs of the same order at once split once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commissions import tasks as commission_tasks
from apps.commissions.payment_splits import payment_split_order
from apps.commissions.services import commission_settle_orders, commissions_release_due
from apps.ledger.models import Wallet
from apps.payments.models import PaymentSplit, SandboxTransaction
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


@pytest.fixture
def splits_enqueued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(commission_tasks.payment_split_order_task, "delay", calls.append)
    return calls


@pytest.fixture
def final_order(merchant, customer, chain, settlements_enqueued, splits_enqueued):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    sku = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    order = completed_order(merchant=merchant, customer=customer, lines=[(sku, 3)])
    commission_settle_orders(order_id=order.pk)
    commissions_release_due(now=timezone.now() + timedelta(days=8))
    assert set(splits_enqueued) == {order.pk}
    return order


@pytest.mark.parametrize("runners", [2, 6])
def test_concurrent_split_runs_split_once(final_order, chain, runners):
    later = timezone.now() + timedelta(days=8)

    outcomes = race([lambda: payment_split_order(order_id=final_order.pk, now=later)] * runners)

    assert [outcome.error for outcome in outcomes] == [None] * runners
    # 99.99 paid: fee 0.99, levels 9.99 / 4.99 / 1.99, merchant 82.03
    assert sum(outcome.value for outcome in outcomes) == 5
    assert sorted(PaymentSplit.objects.values_list("receiver", "amount", "status")) == sorted(
        [
            ("platform", D("0.99"), "done"),
            ("distributor", D("9.99"), "done"),
            ("distributor", D("4.99"), "done"),
            ("distributor", D("1.99"), "done"),
            ("merchant", D("82.03"), "done"),
        ]
    )
    assert SandboxTransaction.objects.filter(kind="split").count() == 5
    assert Wallet.objects.get(distributor=chain[3]).withdrawn == D("9.99")
    assert Wallet.objects.get(distributor=chain[3]).available == D("0.00")
