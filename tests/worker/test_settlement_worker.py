"""Settlement by a real Celery worker process over real Redis (nothing eager)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.commissions import tasks as commission_tasks
from apps.commissions.models import CommissionRecord
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import LedgerEntry, Wallet
from apps.orders.models import Order
from apps.orders.services import order_confirm_receipt
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order, shipped_order
from tests.support.ledger import ledger_balances

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

D = Decimal
SETTLED = re.compile(r"commission_settle_order_task\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: (\d+)")


@pytest.fixture
def lines(merchant):
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=10)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=10)
    return [(first, 1), (second, 3)]


def settled_results(worker):
    """What each settlement the worker ran returned (records created), in order."""
    return [int(count) for count in SETTLED.findall(worker.log())]


def assert_settled_exactly(order, chain):
    assert sorted(
        CommissionRecord.objects.filter(order=order).values_list(
            "order_line__paid_amount", "beneficiary_id", "level", "amount", "status"
        )
    ) == sorted(
        [
            (D("33.33"), chain[3].pk, 1, D("3.33"), "frozen"),
            (D("33.33"), chain[2].pk, 2, D("1.66"), "frozen"),
            (D("33.33"), chain[1].pk, 3, D("0.66"), "frozen"),
            (D("30.03"), chain[3].pk, 1, D("3.00"), "frozen"),
            (D("30.03"), chain[2].pk, 2, D("1.50"), "frozen"),
            (D("30.03"), chain[1].pk, 3, D("0.60"), "frozen"),
        ]
    )
    assert CommissionRecord.objects.filter(beneficiary=chain[0]).count() == 0
    expected = {chain[0]: D("0.00"), chain[1]: D("1.26"), chain[2]: D("3.16"), chain[3]: D("6.33")}
    for distributor, frozen in expected.items():
        assert Wallet.objects.get(distributor=distributor).frozen == frozen
        assert ledger_balances(distributor=distributor)["frozen"] == frozen
    assert Order.objects.get(pk=order.pk).commission_status == Order.CommissionStatus.SETTLED


def test_confirming_receipt_gets_the_order_settled_by_the_worker(
    celery_worker, merchant, customer, chain, lines
):
    # given a shipped order of a customer bound to the deepest of four distributors
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    order = shipped_order(merchant=merchant, customer=customer, lines=lines)

    # when the customer confirms receipt (committed; settlement is enqueued on commit)
    order_confirm_receipt(merchant=merchant, customer=customer, order_id=order.pk)

    # then the worker settles it: exact amounts per line and level, nothing for the 4th ancestor
    # (the worker logs a task's result after its transaction committed)
    celery_worker.wait_until(
        lambda: settled_results(celery_worker), message="the worker ran the settlement"
    )
    assert settled_results(celery_worker) == [6]
    assert_settled_exactly(order, chain)

    # and the same task delivered again settles nothing more
    commission_tasks.commission_settle_order_task.delay(order.pk)
    celery_worker.wait_until(
        lambda: len(settled_results(celery_worker)) == 2, message="the repeated task ran"
    )
    assert settled_results(celery_worker) == [6, 0]
    assert CommissionRecord.objects.count() == 6
    assert LedgerEntry.objects.filter(commission__isnull=False).count() == 6
    assert ledger_breaches() == []
    assert_settled_exactly(order, chain)


def test_the_sweeper_recovers_an_order_whose_enqueue_was_lost(
    celery_worker, monkeypatch, merchant, customer, chain, lines
):
    # given an order completed two minutes ago whose settlement message never reached the broker
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    with monkeypatch.context() as lost:
        lost.setattr(commission_tasks.commission_settle_order_task, "delay", lambda *args: None)
        order = completed_order(merchant=merchant, customer=customer, lines=lines)
    Order.objects.filter(pk=order.pk).update(completed_at=order.completed_at - timedelta(minutes=2))
    assert order.commission_status == Order.CommissionStatus.PENDING
    assert settled_results(celery_worker) == []

    # when beat's sweeper runs
    swept = commission_tasks.commissions_sweep_unsettled()

    # then it enqueues exactly that order and the worker settles it
    assert swept == 1
    celery_worker.wait_until(
        lambda: settled_results(celery_worker), message="the worker ran the swept settlement"
    )
    assert settled_results(celery_worker) == [6]
    assert_settled_exactly(order, chain)
    # and a second sweep finds nothing left
    assert commission_tasks.commissions_sweep_unsettled() == 0


def test_the_sweeper_run_by_the_worker_settles_through_the_worker(
    celery_worker, monkeypatch, merchant, customer, chain, lines
):
    # given the same lost enqueue; this time beat hands the sweep itself to the worker
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    with monkeypatch.context() as lost:
        lost.setattr(commission_tasks.commission_settle_order_task, "delay", lambda *args: None)
        order = completed_order(merchant=merchant, customer=customer, lines=lines)
    Order.objects.filter(pk=order.pk).update(completed_at=order.completed_at - timedelta(minutes=2))

    commission_tasks.commissions_sweep_unsettled.delay()

    celery_worker.wait_until(
        lambda: len(settled_results(celery_worker)) == 1, message="the swept settlement ran"
    )
    assert re.search(
        r"commissions_sweep_unsettled\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: 1\n",
        celery_worker.log(),
    )
    assert settled_results(celery_worker) == [6]
    assert_settled_exactly(order, chain)
