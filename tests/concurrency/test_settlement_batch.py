"""Settling several orders in one transaction (``commission_settle_orders``): exactly the pending
completed orders it claims, each once, with the records the per-order path writes."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from apps.commissions.models import BonusTier, CommissionPlan, CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.ledger.checks import ledger_breaches
from apps.ledger.models import Journal, Wallet
from apps.orders.models import Order
from tests.factories import SkuFactory
from tests.services.flows import bind, completed_order, shipped_order
from tests.support.ledger import ledger_balances

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
# Per order: 33.33 × 1 and 10.01 × 3 paid; 10 %, 5 %, 2 % for levels 1–3, each rounded down.
PER_ORDER = {1: D("3.33") + D("3.00"), 2: D("1.66") + D("1.50"), 3: D("0.66") + D("0.60")}


@pytest.fixture
def make_orders(merchant, customer, chain, settlements_enqueued):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    first = SkuFactory(product__merchant=merchant, price=D("33.33"), stock=100)
    second = SkuFactory(product__merchant=merchant, price=D("10.01"), stock=300)

    def make(count: int) -> list[Order]:
        return [
            completed_order(merchant=merchant, customer=customer, lines=[(first, 1), (second, 3)])
            for _ in range(count)
        ]

    return make


def settled_ids() -> set[int]:
    return set(
        Order.objects.filter(commission_status=Order.CommissionStatus.SETTLED).values_list(
            "pk", flat=True
        )
    )


def test_a_batch_settles_its_order_and_the_lowest_pending_others_up_to_the_limit(
    make_orders, merchant, customer, chain
):
    orders = make_orders(5)
    not_completed = shipped_order(
        merchant=merchant,
        customer=customer,
        lines=[(SkuFactory(product__merchant=merchant, price=D("9.99")), 1)],
    )
    # (pending as if it had been completed, but it is not: not the batch's to settle)
    Order.objects.filter(pk=not_completed.pk).update(commission_status="pending")

    # when the last order's task settles a batch of at most three
    created = commission_settle_orders(order_id=orders[4].pk, limit=3)

    # then its own order and the two lowest pending others, nothing else
    assert created == 18
    assert settled_ids() == {orders[0].pk, orders[1].pk, orders[4].pk}
    assert Order.objects.get(pk=not_completed.pk).commission_status == "pending"
    assert CommissionRecord.objects.filter(order=not_completed).count() == 0
    assert Journal.objects.filter(kind=Journal.Kind.COMMISSION_EARNED).count() == 3
    assert ledger_breaches() == []
    # and a claimed order's own task finds it settled, in one statement
    with CaptureQueriesContext(connection) as queries:
        assert commission_settle_orders(order_id=orders[1].pk, limit=3) == 0
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(statements) == 1 and statements[0].startswith("SELECT")
    # and the next batch takes the rest
    assert commission_settle_orders(order_id=orders[2].pk, limit=50) == 12
    assert settled_ids() == {order.pk for order in orders}
    for level, distributor in ((1, chain[3]), (2, chain[2]), (3, chain[1])):
        assert Wallet.objects.get(distributor=distributor).frozen == PER_ORDER[level] * 5
        assert ledger_balances(distributor=distributor)["frozen"] == PER_ORDER[level] * 5
    assert Wallet.objects.get(distributor=chain[0]).frozen == 0
    assert ledger_breaches() == []


def test_two_batches_racing_settle_every_order_exactly_once(make_orders, chain):
    orders = make_orders(24)

    # when eight tasks of different orders each settle a batch of up to ten, all at once
    outcomes = race(
        [
            lambda order_id=order.pk: commission_settle_orders(order_id=order_id, limit=10)
            for order in orders[::3]
        ]
    )

    # then nothing failed, and the records created add up to one set per order
    assert [outcome.error for outcome in outcomes] == [None] * 8
    assert sum(outcome.value for outcome in outcomes) == 6 * 24
    # and batches that ran left no order for the rest: some of them created nothing or fewer
    assert settled_ids() >= {order.pk for order in orders[::3]}
    # whatever a batch skipped (held by another) is still pending for its own task
    for order in orders:
        commission_settle_orders(order_id=order.pk, limit=10)
    assert settled_ids() == {order.pk for order in orders}
    per_order = (
        CommissionRecord.objects.values("order_id")
        .annotate(records=Count("id"), total=Sum("amount"))
        .values_list("order_id", "records", "total")
    )
    assert sorted(per_order) == sorted(
        (order.pk, 6, sum(PER_ORDER.values(), D("0"))) for order in orders
    )
    assert Journal.objects.filter(kind=Journal.Kind.COMMISSION_EARNED).count() == 24
    for level, distributor in ((1, chain[3]), (2, chain[2]), (3, chain[1])):
        assert Wallet.objects.get(distributor=distributor).frozen == PER_ORDER[level] * 24
    assert ledger_breaches() == []


def test_a_batch_racing_the_per_order_settlements_settles_each_order_once(make_orders, chain):
    orders = make_orders(6)

    outcomes = race(
        [lambda: commission_settle_orders(order_id=orders[0].pk, limit=50)]
        + [
            lambda order_id=order.pk: commission_settle_orders(order_id=order_id)
            for order in orders
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None] * 7
    assert sum(outcome.value for outcome in outcomes) == 6 * 6
    assert settled_ids() == {order.pk for order in orders}
    assert CommissionRecord.objects.count() == 36
    assert Wallet.objects.get(distributor=chain[3]).frozen == PER_ORDER[1] * 6
    assert ledger_breaches() == []


RECORD_FIELDS = (
    "order_line_id",
    "beneficiary_id",
    "level",
    "kind",
    "rule",
    "base_amount",
    "quantity",
    "rate_percent",
    "bonus_percent",
    "unit_amount",
    "amount",
    "explanation",
    "release_at",
    "status",
)


class Rollback(Exception):
    pass


def records_written(settle) -> tuple[list, list, dict]:
    """What ``settle()`` writes — records, commission journal legs, wallets — then rolled back."""
    captured: tuple[list, list, dict] = ([], [], {})
    try:
        with transaction.atomic():
            settle()
            captured = (
                sorted(
                    CommissionRecord.objects.values_list(*RECORD_FIELDS), key=lambda row: repr(row)
                ),
                sorted(
                    Journal.objects.filter(kind=Journal.Kind.COMMISSION_EARNED).values_list(
                        "key",
                        "order_id",
                        "entries__account",
                        "entries__distributor_id",
                        "entries__amount",
                        "entries__commission__order_line_id",
                    ),
                    key=lambda row: repr(row),
                ),
                {
                    wallet.distributor_id: (wallet.frozen, wallet.available)
                    for wallet in Wallet.objects.all()
                },
            )
            assert ledger_breaches() == []
            raise Rollback
    except Rollback:
        pass
    return captured


def test_a_batch_writes_exactly_what_the_per_order_path_writes(
    make_orders, merchant, customer, chain
):
    # given orders whose level-1 distributor crosses a bonus tier part-way (the month's running
    # sales differ per order), and one with a larger second line
    BonusTier.objects.create(
        merchant=merchant,
        plan=CommissionPlan.objects.get(merchant=merchant),
        monthly_sales_threshold=D("150.00"),
        extra_percent=D("2.00"),
    )
    orders = make_orders(4)
    orders.append(
        completed_order(
            merchant=merchant,
            customer=customer,
            lines=[(SkuFactory(product__merchant=merchant, price=D("77.77")), 2)],
        )
    )

    # when they are settled one by one, and (instead) in one batch
    def one_by_one():
        for order in orders:
            commission_settle_orders(order_id=order.pk)

    per_order = records_written(one_by_one)
    batch = records_written(lambda: commission_settle_orders(order_id=orders[2].pk, limit=50))

    # then the records (amounts, rules, explanations), the ledger legs and wallets are identical
    assert len(per_order[0]) == 4 * 6 + 3
    assert any(row[8] == D("2.00") for row in per_order[0])  # the bonus is in play
    assert any(row[8] == D("0.00") and row[2] == 1 for row in per_order[0])
    assert batch == per_order


def test_a_task_whose_order_is_held_settles_the_next_batch_then_its_own_order(make_orders, chain):
    import threading
    import time

    orders = make_orders(5)
    result: list[int] = []

    def settle() -> None:
        try:
            result.append(commission_settle_orders(order_id=orders[0].pk, limit=3))
        finally:
            connection.close()

    # given another transaction holding the order's row (as a refund, or a batch settling it)
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=orders[0].pk)
        worker = threading.Thread(target=settle)
        worker.start()
        # then the task does not wait idle: it settles the next three of the backlog meanwhile
        deadline = time.monotonic() + 30
        while settled_ids() != {order.pk for order in orders[1:4]}:
            assert time.monotonic() < deadline, settled_ids()
            time.sleep(0.05)
        assert worker.is_alive()  # and waits for the order itself
    # and once the holder commits without settling it, settles it (and the rest, as a batch)
    worker.join(30)
    assert not worker.is_alive()
    assert result == [6 * 5]
    assert settled_ids() == {order.pk for order in orders}
    assert CommissionRecord.objects.count() == 30
    assert Wallet.objects.get(distributor=chain[3]).frozen == PER_ORDER[1] * 5
    assert ledger_breaches() == []
