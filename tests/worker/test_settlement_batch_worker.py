"""Batched settlement (``FENXIAO_SETTLEMENT_BATCH``) by a real Celery worker over real Redis."""

import re
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from apps.commissions.models import CommissionRecord
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.orders.models import Order
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

D = Decimal
ORDERS = 30
SETTLED = re.compile(r"commission_settle_order_task\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: (\d+)")
PER_ORDER = {1: D("3.33") + D("3.00"), 2: D("1.66") + D("1.50"), 3: D("0.66") + D("0.60")}


def test_a_worker_settling_in_batches_settles_every_order_exactly_once(
    celery_worker, merchant, customer, chain
):
    # given 30 completed orders whose settlements were enqueued on commit while no worker ran
    celery_worker.stop()
    celery_worker.pool, celery_worker.concurrency = "prefork", 2
    celery_worker.extra_env = {"FENXIAO_SETTLEMENT_BATCH": "8"}
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=ORDERS)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=3 * ORDERS)
    orders = [
        completed_order(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])
        for _ in range(ORDERS)
    ]

    # when a worker with two pool processes and batches of up to eight runs them
    celery_worker.start()
    celery_worker.wait_until(
        lambda: len(SETTLED.findall(celery_worker.log())) == ORDERS,
        timeout=120,
        message="every settlement task ran",
    )

    # then every task ran once, some settled a batch and the rest found their order settled
    results = [int(count) for count in SETTLED.findall(celery_worker.log())]
    assert sum(results) == 6 * ORDERS
    assert max(results) > 6  # a batch settled more than its own order
    assert results.count(0) >= ORDERS - ORDERS // 2
    assert all(count % 6 == 0 and count <= 6 * 8 for count in results)
    # and every order has exactly one set of records, one journal, at the exact amounts
    assert set(
        Order.objects.filter(commission_status=Order.CommissionStatus.SETTLED).values_list(
            "pk", flat=True
        )
    ) == {order.pk for order in orders}
    per_order = (
        CommissionRecord.objects.values("order_id")
        .annotate(records=Count("id"), total=Sum("amount"))
        .values_list("order_id", "records", "total")
    )
    assert sorted(per_order) == sorted(
        (order.pk, 6, sum(PER_ORDER.values(), D("0"))) for order in orders
    )
    assert Journal.objects.filter(kind=Journal.Kind.COMMISSION_EARNED).count() == ORDERS
    assert LedgerEntry.objects.filter(commission__isnull=False).count() == 6 * ORDERS
    for level, distributor in ((1, chain[3]), (2, chain[2]), (3, chain[1])):
        assert Wallet.objects.get(distributor=distributor).frozen == PER_ORDER[level] * ORDERS
    assert Wallet.objects.get(distributor=chain[0]).frozen == 0
    assert ledger_breaches() == []
