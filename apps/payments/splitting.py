"""Executing payment splits (分账) once an order's commission is final.

Commission is final when the order is completed, its settlement has run, every one of its
commission records is released or cancelled (a frozen record, or one in any other state, holds the
split back: the check fails closed), no refund case of the order is open (requested, approved or
refunding: what the payment keeps and what its records pay are about to change) and the after-sale
window (the plan's freeze days after completion) has closed. Then ``payment_split_order`` plans the
split once — the rows are written under the payment's row lock, and their existence is the gate,
so a second run plans nothing — and sends each row through the provider with the row's
idempotency key; a row the provider refused stays ``failed`` and is sent again by the sweeper with
the same key, so the provider never moves the money twice.

A distributor's share is paid out of their available balance (the commission just released): the
ledger moves it from ``available`` to ``withdrawn`` when the split is planned, in the same
transaction, never more than the available balance (a debt from an earlier reversal is settled
first). What the cap or the balance left unsplit stays available and is withdrawn the usual way,
from the merchant's share.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.commissions.ledger import Leg, ledger_post
from apps.commissions.ledger_checks import SPLIT_KEY_PREFIX
from apps.commissions.models import CommissionPlan, CommissionRecord, Journal, LedgerEntry, Wallet
from apps.core.money import ZERO
from apps.orders.models import Order
from apps.refunds.selectors import orders_with_open_refund_case, refund_case_open_on_order

from .models import Payment, PaymentSplit
from .providers import ProviderUnavailable, SplitFailed, SplitReceiver, provider_get
from .splits import CommissionDue, Share, split_compute

DEFAULT_AFTER_SALE_DAYS = 7
SPLIT_MEMO = "payment split"
FINAL_COMMISSION_STATUSES = (CommissionRecord.Status.RELEASED, CommissionRecord.Status.CANCELLED)


def split_receiver_account(*, split: PaymentSplit) -> str:
    """The provider's account of a receiver (WeChat: an openid or a merchant number)."""
    if split.receiver == PaymentSplit.Receiver.DISTRIBUTOR:
        return f"distributor:{split.distributor_id}"
    if split.receiver == PaymentSplit.Receiver.MERCHANT:
        return f"merchant:{split.merchant_id}"
    return "platform"


def _commission_is_final(*, order: Order, now) -> bool:  # type: ignore[no-untyped-def]
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
    freeze_days = (
        CommissionPlan.objects.filter(merchant_id=order.merchant_id)
        .values_list("freeze_days", flat=True)
        .first()
    )
    window = DEFAULT_AFTER_SALE_DAYS if freeze_days is None else freeze_days
    return order.completed_at + timedelta(days=window) <= now


def payment_refunded_amount(*, payment: Payment) -> Decimal:
    """What was refunded of this payment: the provider legs of its refund journals."""
    total = LedgerEntry.objects.filter(
        journal__payment_id=payment.pk,
        journal__kind=Journal.Kind.REFUND,
        account=LedgerEntry.Account.PROVIDER,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def payment_fee_refunded(*, payment: Payment) -> Decimal:
    """The platform fee its refunds gave back (each refund's pro-rata fee share): the
    ``platform_fee`` legs of its refund journals, as a positive amount."""
    total = LedgerEntry.objects.filter(
        journal__payment_id=payment.pk,
        journal__kind=Journal.Kind.REFUND,
        account=LedgerEntry.Account.PLATFORM_FEE,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or ZERO)


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


def _plan(*, payment: Payment, order: Order) -> list[PaymentSplit]:
    per_level = order_commission_due(order_id=order.pk)
    wallets = {
        wallet.distributor_id: wallet
        for wallet in Wallet.objects.select_for_update()
        .filter(distributor_id__in=sorted({due.distributor_id for due in per_level}))
        .order_by("distributor_id")
    }
    # One share per distributor (a split pays each receiver once): a distributor earning at two
    # levels of one order (e.g. agency margin at level 1 and commission at level 2) is summed, at
    # its nearest level. Never more than their available balance: a debt is settled first.
    earned: dict[int, Decimal] = defaultdict(lambda: ZERO)
    nearest: dict[int, int] = {}
    for due in per_level:
        earned[due.distributor_id] += due.amount
        nearest[due.distributor_id] = min(due.level, nearest.get(due.distributor_id, due.level))
    dues = [
        CommissionDue(
            distributor_id=distributor_id,
            level=nearest[distributor_id],
            amount=max(
                ZERO,
                min(
                    amount,
                    wallets[distributor_id].available if distributor_id in wallets else ZERO,
                ),
            ),
        )
        for distributor_id, amount in sorted(earned.items())
    ]
    refunded = payment_refunded_amount(payment=payment)
    # The platform keeps its fee less what the refunds gave back of it (as the ledger says).
    fee = max(ZERO, (payment.platform_fee or ZERO) - payment_fee_refunded(payment=payment))
    shares = split_compute(
        paid=payment.amount,
        refunded=refunded,
        platform_fee=min(fee, payment.amount - refunded),
        commissions=dues,
        max_percent=settings.FENXIAO_SPLIT_MAX_PERCENT,
    )
    splits = PaymentSplit.objects.bulk_create(
        [_split_row(payment=payment, share=share) for share in shares]
    )
    for split in splits:
        if split.receiver == PaymentSplit.Receiver.DISTRIBUTOR:
            _ledger_pay_out(split=split, order=order)
    return splits


def _split_row(*, payment: Payment, share: Share) -> PaymentSplit:
    suffix = share.receiver if share.distributor_id is None else f"d{share.distributor_id}"
    return PaymentSplit(
        merchant_id=payment.merchant_id,
        payment=payment,
        receiver=share.receiver,
        distributor_id=share.distributor_id,
        amount=share.amount,
        idempotency_key=f"SPL-{payment.out_trade_no}-{suffix}",
    )


def _ledger_pay_out(*, split: PaymentSplit, order: Order) -> None:
    """The distributor's share leaves their available balance: paid out through the split, like
    a withdrawal without fee. No commission is named on the legs (the records keep their own)."""
    ledger_post(
        merchant_id=split.merchant_id,
        kind=Journal.Kind.ADJUSTMENT,
        key=f"{SPLIT_KEY_PREFIX}{split.idempotency_key}",
        order_id=order.pk,
        payment_id=split.payment_id,
        reference=split.idempotency_key,
        memo=SPLIT_MEMO,
        legs=[
            Leg(LedgerEntry.Account.AVAILABLE, -split.amount, split.distributor_id),
            Leg(LedgerEntry.Account.WITHDRAWN, split.amount, split.distributor_id),
        ],
    )


def payment_split_order(*, order_id: int, now=None) -> int:  # type: ignore[no-untyped-def]
    """Plan the order's split once its commission is final, then send what is not done yet.

    Harmless to run any number of times, concurrently too. Returns how many rows this call sent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(order_id=order_id, status=Payment.Status.SUCCEEDED)
            .first()
        )
        if payment is None:
            return 0
        if not PaymentSplit.objects.filter(payment=payment).exists():
            order = Order.objects.get(pk=order_id)
            if not _commission_is_final(order=order, now=now):
                return 0
            _plan(payment=payment, order=order)
    pending = list(
        PaymentSplit.objects.filter(payment_id=payment.pk)
        .exclude(status=PaymentSplit.Status.DONE)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return sum(payment_split_send(split_id=split_id) for split_id in pending)


def payment_split_send(*, split_id: int) -> bool:
    """Send one split row to the provider (its key makes a repeat harmless). True if now done.

    The row stays locked while the provider is called, so two senders never race on one row.
    """
    with transaction.atomic():
        split = (
            PaymentSplit.objects.select_for_update(of=("self",))
            .select_related("payment")
            .filter(pk=split_id)
            .first()
        )
        if split is None or split.status == PaymentSplit.Status.DONE:
            return False
        try:
            provider = provider_get(split.payment.provider)
            result = provider.split(
                split.payment,
                [
                    SplitReceiver(
                        receiver=split.receiver,
                        account=split_receiver_account(split=split),
                        amount=split.amount,
                    )
                ],
                split.idempotency_key,
            )
        except (SplitFailed, ProviderUnavailable) as error:
            split.status = PaymentSplit.Status.FAILED
            split.failure_reason = str(error)[:255] or type(error).__name__
            split.save(update_fields=["status", "failure_reason", "updated_at"])
            return False
        split.status = PaymentSplit.Status.DONE
        split.provider_reference = result.provider_reference
        split.failure_reason = ""
        split.done_at = timezone.now()
        split.save(
            update_fields=[
                "status",
                "provider_reference",
                "failure_reason",
                "done_at",
                "updated_at",
            ]
        )
    return True


def payment_split_due_order_ids(*, now=None, limit: int = 500) -> list[int]:  # type: ignore[no-untyped-def]
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
        .alias(window_end=window_end)
        .filter(Q(window_end__lte=now))
    )
    ids = set(planned.values_list("pk", flat=True)[:limit])
    ids |= set(unplanned.order_by("id").values_list("pk", flat=True)[:limit])
    return sorted(ids)[:limit]
