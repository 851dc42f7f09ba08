"""Commission settlement and release.

Settlement is gated by a compare-and-swap on the order (commission_status pending → settled) in the
same transaction that writes the records, the ledger entries and the wallet changes, so a task that is
delivered twice, retried, or run by two workers at once settles exactly once. The unique constraint on
(order line, beneficiary, level) is the last line of defence.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import events
from apps.core.errors import DomainError, NotFound
from apps.core.money import HUNDRED, ZERO, NotTwoPlaces, parse_two_places
from apps.core.state import compare_and_swap
from apps.distributors.selectors import programme_settings_for
from apps.ledger.posting import (
    CommissionEarned,
    commission_earned_posting,
    ledger_post_commission_released,
    ledger_post_commissions_earned,
)
from apps.merchants.events import MerchantTakeChanged
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.refunds.models import RefundCase, RefundCaseLine

from .calculation import commission_lines_compute
from .calculation_inputs import commission_inputs_load, plan_rates_for
from .clawback import commissions_claw_back_lines
from .events import CommissionReleased, CommissionSettled
from .models import CommissionPlan, CommissionRecord

MAX_LEVELS = 3
PLAN_FIELDS = (
    "level1_percent",
    "level2_percent",
    "level3_percent",
    "max_total_percent",
    "freeze_days",
    "is_enabled",
)
MAX_FREEZE_DAYS = 365
DEFAULT_FREEZE_DAYS = 7
# Orders one settlement task may settle together when a backlog waits (``commission_settle_orders``).
SETTLEMENT_BATCH = 50


class CommissionPlanInvalid(DomainError):
    """A plan refused; ``field`` names the setting at fault so that forms can show it there."""

    def __init__(self, message: str, *, code: str, field: str):
        super().__init__(message, code=code)
        self.field = field


def _percent(value: Any, *, field: str, label: str) -> Decimal:
    try:
        percent = parse_two_places(value)
    except NotTwoPlaces as error:
        message = (
            _("%(label)s has at most two decimal places.")
            if error.is_number
            else _("%(label)s must be a percentage such as 12.50.")
        )
        raise CommissionPlanInvalid(
            message % {"label": label}, code="invalid_percent", field=field
        ) from error
    if not ZERO <= percent <= HUNDRED:
        raise CommissionPlanInvalid(
            _("%(label)s must be between 0 and 100%%.") % {"label": label},
            code="percent_out_of_range",
            field=field,
        )
    return percent


def commission_plan_check(
    *,
    level1_percent: Any,
    level2_percent: Any,
    level3_percent: Any,
    max_total_percent: Any,
    freeze_days: Any,
) -> dict[str, Any]:
    """Each level 0–100 %, their sum within the cap, the cap at most 100 %, 0–365 freeze days.

    Returns the settings as they are stored (percentages as two-place Decimals); raises
    ``CommissionPlanInvalid`` naming the first problem found.
    """
    levels = [
        _percent(value, field=f"level{level}_percent", label=_("Level %(n)d") % {"n": level})
        for level, value in enumerate((level1_percent, level2_percent, level3_percent), start=1)
    ]
    cap = _percent(max_total_percent, field="max_total_percent", label=_("The cap"))
    if (
        isinstance(freeze_days, bool)
        or not isinstance(freeze_days, int)
        or not 0 <= freeze_days <= MAX_FREEZE_DAYS
    ):
        raise CommissionPlanInvalid(
            _("Freeze days must be a whole number from 0 to %(max)d.") % {"max": MAX_FREEZE_DAYS},
            code="freeze_days_out_of_range",
            field="freeze_days",
        )
    total = sum(levels, ZERO)
    if total > cap:
        raise CommissionPlanInvalid(
            _("The levels add up to %(total)s%%, more than the cap of %(cap)s%%.")
            % {"total": total, "cap": cap},
            code="levels_over_cap",
            field="max_total_percent",
        )
    return {
        "level1_percent": levels[0],
        "level2_percent": levels[1],
        "level3_percent": levels[2],
        "max_total_percent": cap,
        "freeze_days": freeze_days,
    }


def commission_plan_open(*, merchant_id: int) -> None:
    """Give a new merchant the default commission plan (once: a second call changes nothing)."""
    CommissionPlan.objects.get_or_create(merchant_id=merchant_id)


def commission_plan_update(*, merchant: Merchant, **fields: Any) -> CommissionPlan:
    """Change the given settings of the merchant's plan, checked together with the others.

    The row is locked while it is checked and written, so two concurrent edits cannot together
    produce levels over the cap.
    """
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"not commission plan settings: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        plan = CommissionPlan.objects.select_for_update().filter(merchant=merchant).first()
        if plan is None:
            raise NotFound(_("This merchant has no commission plan."), code="no_commission_plan")
        if not isinstance(fields.get("is_enabled", True), bool):
            raise CommissionPlanInvalid(
                _("“Enabled” is yes or no."), code="invalid_is_enabled", field="is_enabled"
            )
        old_cap = plan.max_total_percent
        merged = {name: fields.get(name, getattr(plan, name)) for name in PLAN_FIELDS}
        cleaned = commission_plan_check(**{k: v for k, v in merged.items() if k != "is_enabled"})
        for name, value in fields.items():
            setattr(plan, name, cleaned.get(name, value))
        if fields:
            plan.save(update_fields=[*fields, "updated_at"])
        if plan.max_total_percent != old_cap:
            events.publish(MerchantTakeChanged(merchant_id=merchant.pk))
    plan.refresh_from_db()
    return plan


def _records_for_orders(orders: list[Order]) -> dict[int, list[CommissionRecord]]:
    """The orders' records as the rules compute them (``apps.commissions.calculation``), unsaved: the
    plan, bonus tiers, programme settings and inputs are loaded once per merchant."""
    by_merchant: dict[int, list[Order]] = {}
    for order in orders:
        by_merchant.setdefault(order.merchant_id, []).append(order)
    result: dict[int, list[CommissionRecord]] = {}
    for merchant_id, merchant_orders in by_merchant.items():
        plan = plan_rates_for(merchant_id=merchant_id)
        programme = programme_settings_for(merchant=merchant_orders[0].merchant)
        inputs = commission_inputs_load(
            merchant_id=merchant_id, orders=merchant_orders, settings=programme, plan=plan
        )
        freeze = timedelta(days=plan.freeze_days if plan is not None else DEFAULT_FREEZE_DAYS)
        now = timezone.now()
        for order in merchant_orders:
            release_at = (order.completed_at or now) + freeze
            result[order.pk] = [
                CommissionRecord(
                    merchant_id=merchant_id,
                    order_id=order.pk,
                    order_line_id=spec.order_line_id,
                    beneficiary_id=spec.beneficiary_id,
                    level=spec.level,
                    kind=spec.kind,
                    rule=spec.rule,
                    base_amount=spec.base_amount,
                    quantity=spec.quantity,
                    rate_percent=spec.rate_percent,
                    bonus_percent=spec.bonus_percent,
                    unit_amount=spec.unit_amount,
                    amount=spec.amount,
                    explanation=spec.explanation,
                    release_at=release_at,
                )
                for spec in commission_lines_compute(
                    order=inputs.orders[order.pk], plan=inputs.plan, overrides=inputs.overrides
                )
            ]
    return result


def _claim_pending_orders(*, besides: int, limit: int) -> list[int]:
    """Mark up to ``limit`` other completed orders awaiting settlement as settled and return their
    ids: the rows another transaction holds are skipped (never waited for), the others locked in
    id order and re-checked by the update (only those it changed are returned). The candidates
    are a materialized CTE: as a plain ``IN (subquery … LIMIT)`` PostgreSQL may run the
    subquery more than once and claim more than ``limit``."""
    if limit < 1:
        return []
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH candidates AS MATERIALIZED (
                SELECT id FROM {table}
                WHERE status = %s AND commission_status = %s AND id <> %s
                ORDER BY id
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {table} SET commission_status = %s
            WHERE id IN (SELECT id FROM candidates)
            AND status = %s AND commission_status = %s
            RETURNING id
            """,
            [
                Order.Status.COMPLETED,
                Order.CommissionStatus.PENDING,
                besides,
                limit,
                Order.CommissionStatus.SETTLED,
                Order.Status.COMPLETED,
                Order.CommissionStatus.PENDING,
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


def commission_settle_orders(*, order_id: int, limit: int | None = None) -> int:
    """Settle the completed order: its commission records (frozen), their journal and the frozen
    balances, gated by a compare-and-swap of its ``commission_status`` — the one settlement path.
    Returns how many records were created (0 when the order was already settled, is not
    completed, or has no one to pay).

    In the same transaction it settles up to ``limit`` − 1 other completed orders still awaiting
    settlement (a backlog; ``limit`` defaults to ``FENXIAO_SETTLEMENT_BATCH``), with the work done
    in bulk: one claim, one load of the rules' inputs per merchant, one insert of all records, the
    journals and wallets through one posting. A batch of one is the single order.

    The others are claimed only if no other transaction holds them, so two batches never wait for
    each other's orders and never settle one twice. An order settled here makes its own task, when
    it runs, return 0 after one statement. If the order's own row is held by another transaction
    (typically a batch that is settling it), a batch above one settles the next batch of the
    backlog instead of waiting; then it waits for the row and settles the order if it is still
    due.
    """
    if limit is None:
        limit = settings.FENXIAO_SETTLEMENT_BATCH
    limit = max(1, limit)
    with transaction.atomic():
        state = (
            Order.objects.select_for_update(skip_locked=True)
            .filter(pk=order_id)
            .values_list("status", "commission_status")
            .first()
        )
        if state is not None:
            # This transaction holds the order's row: settle it now if it is due, with a batch.
            if state != (Order.Status.COMPLETED, Order.CommissionStatus.PENDING):
                return 0
            Order.objects.filter(pk=order_id).update(
                commission_status=Order.CommissionStatus.SETTLED
            )
            return _settle_claimed(
                [order_id, *_claim_pending_orders(besides=order_id, limit=limit - 1)]
            )
        # Another transaction holds it — most likely a batch settling it. Rather than wait idle,
        # settle the next batch of the backlog meanwhile.
        others = _claim_pending_orders(besides=order_id, limit=limit) if limit > 1 else []
        created = _settle_claimed(others) if others else 0
    # Then wait for the order's row (it is usually settled by then), so that an order held by a
    # refund, say, is still settled by its own task.
    with transaction.atomic():
        if not compare_and_swap(
            Order.objects.filter(status=Order.Status.COMPLETED),
            pk=order_id,
            field="commission_status",
            old=Order.CommissionStatus.PENDING,
            new=Order.CommissionStatus.SETTLED,
        ):
            return created
        return created + _settle_claimed(
            [order_id, *_claim_pending_orders(besides=order_id, limit=limit - 1)]
        )


def _settle_claimed(order_ids: list[int]) -> int:
    """Write the records, journals and wallet changes of orders this transaction has just marked
    settled (``commission_settle_orders``); how many records were created."""
    orders = list(Order.objects.select_related("merchant").filter(pk__in=order_ids).order_by("pk"))
    records_by_order = _records_for_orders(orders)
    records = [record for order in orders for record in records_by_order[order.pk]]
    CommissionRecord.objects.bulk_create(records)
    ledger_post_commissions_earned(
        [
            commission_earned_posting(
                merchant_id=order.merchant_id,
                order_id=order.pk,
                earned=[
                    CommissionEarned(
                        commission_id=record.pk,
                        distributor_id=record.beneficiary_id,
                        amount=record.amount,
                    )
                    for record in records_by_order[order.pk]
                ],
            )
            for order in orders
            if records_by_order[order.pk]
        ]
    )
    # Lines refunded before settlement: their records give back the refunded share at once (one
    # query when none was refunded).
    refunded = RefundCaseLine.objects.filter(
        case__order_id__in=order_ids, case__status=RefundCase.Status.REFUNDED
    ).values_list("order_line_id", flat=True)
    line_ids = sorted(set(refunded))
    if line_ids:
        commissions_claw_back_lines(order_line_ids=line_ids)
    settled = tuple(order.pk for order in orders if records_by_order[order.pk])
    if settled:
        events.publish(CommissionSettled(order_ids=settled))
    return len(records)


def commission_release(*, record_id: int, now=None) -> bool:
    """Move one frozen record whose after-sale window is over, and on whose order line no refund
    case is open, to the available balance (what the refunds left of it). True if it moved.

    The order row is locked first, as every refund path does: a refund case opened or refunded on
    the same line either commits before (the record stays frozen, or moves reduced) or waits until
    the record is released (and is then taken back from the available balance).
    """
    from apps.refunds.selectors import refund_case_open_on_line

    now = now or timezone.now()
    with transaction.atomic():
        found = (
            CommissionRecord.objects.filter(pk=record_id)
            .values_list("order_id", "order_line_id")
            .first()
        )
        if found is None:
            return False
        order_id, order_line_id = found
        list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
        if refund_case_open_on_line(order_line_id=order_line_id):
            return False
        if not compare_and_swap(
            CommissionRecord.objects.filter(release_at__lte=now),
            pk=record_id,
            field="status",
            old=CommissionRecord.Status.FROZEN,
            new=CommissionRecord.Status.RELEASED,
            released_at=now,
        ):
            return False
        record = CommissionRecord.objects.only(
            "merchant_id", "order_id", "beneficiary_id", "amount", "reversed_amount"
        ).get(pk=record_id)
        _split_when_final_on_commit(order_id=record.order_id)
        # What refunds left of it (a record fully reversed while frozen is cancelled, not here).
        amount = record.amount - record.reversed_amount
        ledger_post_commission_released(
            merchant_id=record.merchant_id,
            commission_id=record_id,
            distributor_id=record.beneficiary_id,
            order_id=record.order_id,
            amount=amount,
            at=now,
        )
    return True


# The orders whose records a batch of releases has released (committed), or None outside a batch.
_released_orders: ContextVar[set[int] | None] = ContextVar("released_orders", default=None)


def _split_when_final_on_commit(*, order_id: int) -> None:
    """The order's commission may now be final: its payment split (分账) is tried after commit.

    Inside ``commission_release_batch`` the order is only noted once the release commits; the
    batch tells the house about each noted order once when it ends.
    """
    batch = _released_orders.get()
    if batch is None:
        events.publish(CommissionReleased(order_ids=(order_id,)))
    else:
        transaction.on_commit(lambda: batch.add(order_id))


@contextmanager
def commission_release_batch() -> Iterator[None]:
    """Releases inside the block publish one ``CommissionReleased`` for all their orders, not one
    per record.

    An order is included only if one of its releases committed, and the event is published after
    the block's own transaction (if any) commits; a crash before the end leaves the split to the
    beat sweeper (``payments_sweep_splits``), which finds every due split that was never run.
    """
    orders: set[int] = set()
    token = _released_orders.set(orders)
    try:
        yield
    finally:
        _released_orders.reset(token)

        def publish() -> None:
            if orders:
                events.publish(CommissionReleased(order_ids=tuple(sorted(orders))))

        transaction.on_commit(publish)


def commissions_release_due(*, now=None, limit: int = 1000) -> int:
    """Release every frozen record whose freeze is over; each order's split is enqueued once."""
    now = now or timezone.now()
    from apps.refunds.selectors import records_with_open_refund_case

    due = (
        CommissionRecord.objects.filter(status=CommissionRecord.Status.FROZEN, release_at__lte=now)
        .exclude(records_with_open_refund_case())
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    with commission_release_batch():
        return sum(commission_release(record_id=record_id, now=now) for record_id in list(due))


def commissions_unsettled_order_ids(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Completed orders whose settlement never ran (e.g. a crash between commit and enqueue)."""
    cutoff = timezone.now() - older_than
    return list(
        Order.objects.filter(
            commission_status=Order.CommissionStatus.PENDING,
            status=Order.Status.COMPLETED,
            completed_at__lte=cutoff,
        )
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )
