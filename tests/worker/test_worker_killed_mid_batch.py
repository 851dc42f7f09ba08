"""A worker killed with SIGKILL in the middle of settling a batch; a new worker and beat's sweeper
finish the batch, with nothing paid twice and nothing missed, and no human step.

How the kill lands in the middle of settlements, every time: every order of the batch pays the same
level-1 distributor, and ``ledger_post`` updates that distributor's wallet last, after the
compare-and-swap on the order, the records, the journal and its entries were written. Once the
worker has settled part of the batch, the test holds that wallet row locked (``SELECT … FOR
UPDATE``) and waits until ``pg_stat_activity`` shows each of the worker's pool processes blocked on
the lock — each inside a settlement transaction with its writes made — then SIGKILLs the worker's
process group and releases the lock. A dead client never sends COMMIT, so PostgreSQL rolls those
transactions back.

Why the sweeper, not redelivery: the worker runs with the production Celery settings
(``task_acks_late``, ``task_reject_on_worker_lost``, prefetch 1), so the killed tasks' messages stay
unacknowledged in Redis; but Redis (kombu) redelivers an unacknowledged message only after the
visibility timeout (``FENXIAO_CELERY_VISIBILITY_TIMEOUT``, one hour, longer than any task). The test
keeps that timeout and shows the restarted worker does *not* get those messages back; what settles
the orders in flight is beat's sweeper (``commissions_sweep_unsettled``) run by the restarted
worker. The restarted worker sets ``FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS=0`` so that the sweeper
takes orders completed seconds ago rather than after the production minute; the sweep query is
otherwise the production one. When the hour is up, Redis redelivers the lost messages and the
compare-and-swap makes them settle nothing (shown at the end by delivering them again).
"""

import base64
import json
import re
import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from apps.commissions import tasks as commission_tasks
from apps.commissions.models import CommissionRecord
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.orders.models import Order
from apps.tenancy.scope import owner_connection
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

D = Decimal
ORDERS = 200
SETTLED_BEFORE_KILL = 40
POOL_PROCESSES = 2
SETTLED_LOG = re.compile(
    r"commission_settle_order_task\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: (\d+)"
)
# Per order: 33.33 × 1 and 10.01 × 3 paid; 10 %, 5 %, 2 % for levels 1–3, each rounded down.
PER_ORDER = {1: D("3.33") + D("3.00"), 2: D("1.66") + D("1.50"), 3: D("0.66") + D("0.60")}


def settled_order_ids() -> set[int]:
    return set(
        Order.objects.filter(commission_status=Order.CommissionStatus.SETTLED).values_list(
            "pk", flat=True
        )
    )


def unacked_settlements() -> list[int]:
    """Order ids of the settlement messages Redis holds as delivered but never acknowledged."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        order_ids = []
        for raw in client.hvals("unacked"):
            message = json.loads(raw)[0]
            assert message["headers"]["task"].endswith("commission_settle_order_task")
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            order_ids.append(args[0])
        return sorted(order_ids)
    finally:
        client.close()


def backends_waiting_for_a_lock(worker) -> int:
    """How many of the worker's database sessions wait for a lock right now. (Inside a transaction
    PostgreSQL keeps showing one snapshot of its statistics views unless told to drop it.) As the
    owner: the application role sees no other session's state."""
    with owner_connection("test: the worker's sessions"), connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND state = 'active' AND wait_event_type = 'Lock'",
            [worker.application_name],
        )
        return cursor.fetchone()[0]


def settle_results(worker) -> list[int]:
    return [int(count) for count in SETTLED_LOG.findall(worker.log())]


def test_a_worker_killed_mid_batch_is_finished_by_a_new_worker_and_the_sweeper(
    celery_worker, merchant, customer, chain
):
    # given 200 completed orders of a customer bound to the deepest of four distributors, their
    # settlements enqueued on commit while no worker runs
    celery_worker.stop()
    celery_worker.pool, celery_worker.concurrency = "prefork", POOL_PROCESSES
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=ORDERS)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=3 * ORDERS)
    orders = [
        completed_order(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])
        for _ in range(ORDERS)
    ]
    all_ids = {order.pk for order in orders}
    assert settled_order_ids() == set()

    # when a worker with two pool processes has settled part of the batch
    celery_worker.start()
    celery_worker.wait_until(
        lambda: len(settled_order_ids()) >= SETTLED_BEFORE_KILL,
        timeout=120,
        message=f"{SETTLED_BEFORE_KILL} orders settled",
    )
    # and both pool processes are stopped inside a settlement, on the level-1 wallet's lock
    with transaction.atomic():
        Wallet.objects.select_for_update().get(distributor=chain[3])
        celery_worker.wait_until(
            lambda: backends_waiting_for_a_lock(celery_worker) == POOL_PROCESSES,
            timeout=60,
            interval=0.02,
            message="both pool processes blocked inside a settlement",
        )
        # when the whole worker is SIGKILLed there
        celery_worker.kill(wait_for_backends=False)
        settled_at_kill = settled_order_ids()
    celery_worker.wait_for_backends_to_close()

    # then it was caught part-way: some orders settled, most not, two messages in flight and lost
    assert SETTLED_BEFORE_KILL <= len(settled_at_kill) < ORDERS - POOL_PROCESSES
    in_flight = unacked_settlements()
    assert len(in_flight) == POOL_PROCESSES
    assert set(in_flight) <= all_ids - settled_at_kill
    # and the killed transactions left nothing behind
    assert settled_order_ids() == settled_at_kill
    assert CommissionRecord.objects.count() == 6 * len(settled_at_kill)
    assert ledger_breaches() == []

    # when a new worker starts (beat's sweeper may take orders completed seconds ago)
    celery_worker.extra_env = {"FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS": "0"}
    celery_worker.start()
    # then it settles everything still queued, but not the two lost ones: their messages stay
    # unacknowledged until the visibility timeout (an hour)
    celery_worker.wait_until(
        lambda: settled_order_ids() == all_ids - set(in_flight),
        timeout=120,
        message="the queued settlements done",
    )
    time.sleep(2)
    assert settled_order_ids() == all_ids - set(in_flight)
    assert unacked_settlements() == in_flight

    # when beat's sweeper runs on the worker
    commission_tasks.commissions_sweep_unsettled.delay()

    # then it finds exactly the two lost orders and the worker settles them
    celery_worker.wait_until(
        lambda: settled_order_ids() == all_ids, timeout=60, message="every order settled"
    )
    celery_worker.wait_until(
        lambda: re.search(
            r"commissions_sweep_unsettled\[[0-9a-f-]+\] succeeded", celery_worker.log()
        ),
        message="the sweep logged",
    )
    assert re.search(
        rf"commissions_sweep_unsettled\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: {POOL_PROCESSES}\n",
        celery_worker.log(),
    )

    # and when the lost messages are delivered after all (as Redis does after the timeout)
    runs_before = len(settle_results(celery_worker))
    for order_id in in_flight:
        commission_tasks.commission_settle_order_task.delay(order_id)
    celery_worker.wait_until(
        lambda: len(settle_results(celery_worker)) == runs_before + POOL_PROCESSES,
        message="the redelivered settlements ran",
    )
    # then they settle nothing
    assert settle_results(celery_worker)[-POOL_PROCESSES:] == [0] * POOL_PROCESSES

    # and every order has exactly one set of records: six, at the exact amounts
    per_order = (
        CommissionRecord.objects.values("order_id")
        .annotate(records=Count("id"), total=Sum("amount"))
        .values_list("order_id", "records", "total")
    )
    expected_total = sum(PER_ORDER.values(), D("0"))
    assert sorted(per_order) == sorted((pk, 6, expected_total) for pk in all_ids)
    assert CommissionRecord.objects.count() == 6 * ORDERS
    assert Journal.objects.filter(kind=Journal.Kind.COMMISSION_EARNED).count() == ORDERS
    assert LedgerEntry.objects.filter(commission__isnull=False).count() == 6 * ORDERS
    # and the balances match: each wallet is the batch's sum, the ledger has no breach
    for level, distributor in ((1, chain[3]), (2, chain[2]), (3, chain[1])):
        wallet = Wallet.objects.get(distributor=distributor)
        assert wallet.frozen == PER_ORDER[level] * ORDERS
        assert (wallet.available, wallet.withdrawing, wallet.withdrawn) == (0, 0, 0)
    assert Wallet.objects.get(distributor=chain[0]).frozen == 0  # the fourth ancestor: nothing
    assert ledger_breaches() == []
