"""When an order's payment is split (分账), and what its distributors finally earned.

Commission is final when the order is completed, its settlement has run, every one of its
commission records is released or cancelled (a frozen record, or one in any other state, holds the
split back: the check fails closed), nothing of the order is still frozen for a supplier (its
supplier_frozen legs sum to zero: every share released or cancelled), no refund case of the order
is open (requested, approved or refunding: what the payment keeps and what its records pay are
about to change) and the after-sale window (the plan's freeze days after completion) has closed.
Then ``payment_split_order`` has payments plan the split once, under the payment's row lock, and
send it (``apps.payments.split_payouts``); each supplier receives what it was finally owed, within
the same cap. This lives in commissions because it reads commission records
and refund cases, which stand above payments; payments is only told the amounts.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.money import ZERO
from apps.ledger.models import Journal, LedgerEntry
from apps.orders.models import Order
from apps.payments.models import Payment, PaymentSplit
from apps.payments.split_payouts import (
    payment_split_lock,
    payment_split_plan,
    payment_split_planned,
    payment_split_send_pending,
)
from apps.payments.split_shares import CommissionDue, SupplierDue
from apps.refunds.selectors import orders_with_open_refund_case, refund_case_open_on_order

from .models import CommissionPlan, CommissionRecord

DEFAULT_AFTER_SALE_DAYS = 7
FINAL_COMMISSION_STATUSES = (CommissionRecord.Status.RELEASED, CommissionRecord.Status.CANCELLED)


def _commission_is_final(*, order: Order, now: datetime) -> bool:
    if order.status != Order.Status.COMPLETED or order.completed_at is None:
        return False
    if order.commission_status == Order.CommissionStatus.PENDING:
        return False
    if (
        CommissionRecord.objects.filter(order_id=order.pk)
        .exclude(status__in=FINAL_COMMISSION_STATUSES)
        .exists()
    ):
        return False
    if refund_case_open_on_order(order_id=order.pk):
        return False
    if (
        LedgerEntry.objects.filter(
            journal__order_id=order.pk, account=LedgerEntry.Account.SUPPLIER_FROZEN
        ).aggregate(total=Sum("amount", default=ZERO))["total"]
        != ZERO
    ):
        return False
    freeze_days = (
        CommissionPlan.objects.filter(merchant_id=order.merchant_id)
        .values_list("freeze_days", flat=True)
        .first()
    )
    window = DEFAULT_AFTER_SALE_DAYS if freeze_days is None else freeze_days
    return order.completed_at + timedelta(days=window) <= now


def order_commission_due(*, order_id: int) -> list[CommissionDue]:
    """Per distributor and level, the commission finally earned on the order.

    Commission and agency margin (差价) alike are sent to others, so both count. Only released
    records are split, each at the lesser of what refunds left of it (``net_amount``: amount less
    ``reversed_amount``) and what its ``available`` legs in the ledger still hold: a record
    reduced or reversed by a refund is never split for more than it still pays, and never below
    zero.
    """
    records = list(
        CommissionRecord.objects.filter(order_id=order_id, status=CommissionRecord.Status.RELEASED)
        .annotate(net=F("amount") - F("reversed_amount"))
        .values_list("pk", "beneficiary_id", "level", "net")
    )
    in_ledger = dict(
        LedgerEntry.objects.filter(
            commission_id__in=[pk for pk, *_rest in records],
            account=LedgerEntry.Account.AVAILABLE,
        )
        .values("commission_id")
        .annotate(total=Sum("amount"))
        .values_list("commission_id", "total")
    )
    earned: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for pk, beneficiary_id, level, amount in records:
        earned[(beneficiary_id, level)] += max(ZERO, min(amount, in_ledger.get(pk, ZERO)))
    return [
        CommissionDue(distributor_id=distributor_id, level=level, amount=amount)
        for (distributor_id, level), amount in sorted(earned.items())
    ]


def order_suppliers_due(*, order_id: int) -> list[SupplierDue]:
    """Per supplier, what it was finally owed on the order: the supplier_available legs of the
    order's supply journals (released shares less what refunds took back after release)."""
    owed = (
        LedgerEntry.objects.filter(
            journal__order_id=order_id,
            journal__kind__in=[Journal.Kind.SUPPLY_RELEASED, Journal.Kind.SUPPLY_REVERSED],
            account=LedgerEntry.Account.SUPPLIER_AVAILABLE,
        )
        .values("supplier_id")
        .annotate(total=Sum("amount"))
        .values_list("supplier_id", "total")
        .order_by("supplier_id")
    )
    return [SupplierDue(supplier_id=pk, amount=total) for pk, total in owed if total > ZERO]


def payment_split_order(*, order_id: int, now: datetime | None = None) -> int:
    """Plan the order's split once its commission is final, then send what is not done yet.

    Harmless to run any number of times, concurrently too. Returns how many rows this call sent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        payment = payment_split_lock(order_id=order_id)
        if payment is None:
            return 0
        if not payment_split_planned(payment=payment):
            order = Order.objects.get(pk=order_id)
            if not _commission_is_final(order=order, now=now):
                return 0
            payment_split_plan(
                payment=payment,
                order_id=order_id,
                per_level=order_commission_due(order_id=order_id),
                suppliers=order_suppliers_due(order_id=order_id),
            )
    return payment_split_send_pending(payment_id=payment.pk)


def payment_split_due_order_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Orders whose split is due and not done: the sweeper's list (an event lost, a row that
    failed). Completed, settled or without commission, none frozen, after-sale window closed."""
    now = now or timezone.now()
    unfinished = PaymentSplit.objects.filter(payment__order_id=OuterRef("pk")).exclude(
        status=PaymentSplit.Status.DONE
    )
    any_split = PaymentSplit.objects.filter(payment__order_id=OuterRef("pk"))
    not_final = CommissionRecord.objects.filter(order_id=OuterRef("pk")).exclude(
        status__in=FINAL_COMMISSION_STATUSES
    )
    window_end = ExpressionWrapper(
        F("completed_at")
        + Coalesce(F("merchant__commission_plan__freeze_days"), Value(DEFAULT_AFTER_SALE_DAYS))
        * timedelta(days=1),
        output_field=DurationField(),
    )
    supplier_frozen = (
        LedgerEntry.objects.filter(
            journal__order_id=OuterRef("pk"), account=LedgerEntry.Account.SUPPLIER_FROZEN
        )
        .order_by()
        .values("journal__order_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    planned = Order.objects.filter(Exists(unfinished))
    unplanned = (
        Order.objects.filter(
            status=Order.Status.COMPLETED,
            payments__status=Payment.Status.SUCCEEDED,
        )
        .exclude(commission_status=Order.CommissionStatus.PENDING)
        .exclude(Exists(any_split))
        .exclude(Exists(not_final))
        .exclude(orders_with_open_refund_case())
        .alias(
            window_end=window_end,
            supplier_frozen=Coalesce(
                Subquery(
                    supplier_frozen, output_field=DecimalField(max_digits=14, decimal_places=2)
                ),
                Value(ZERO),
            ),
        )
        .filter(Q(window_end__lte=now), supplier_frozen=ZERO)
    )
    ids = set(planned.values_list("pk", flat=True)[:limit])
    ids |= set(unplanned.order_by("id").values_list("pk", flat=True)[:limit])
    return sorted(ids)[:limit]
