"""Money that arrived for an order already closed (``refund_required``: paid after the order was
cancelled, or for a checkout the consumer replaced), given back in full through the provider."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, NotFound
from apps.merchants.models import Merchant
from apps.payments.models import Payment

from ..models import RefundCase
from .cases import K, S, case_opened, lock_order
from .decisions import refund_execute


def payment_refund_unclaimed(
    *, merchant: Merchant, payment_id: int, actor: User | None
) -> RefundCase:
    """Give back, in full through the provider, a payment that arrived after its order closed
    (``refund_required``). Once per payment: a second call returns the case already open."""
    payment = Payment.objects.filter(merchant=merchant, pk=payment_id).first()
    if payment is None:
        raise NotFound(_("No such payment."), code="unknown_payment")
    with transaction.atomic():
        order = lock_order(payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        existing = (
            RefundCase.objects.filter(
                payment=payment, kind=K.UNCLAIMED_PAYMENT, status__in=RefundCase.HOLDING_STATUSES
            )
            .order_by("id")
            .first()
        )
        if existing is not None:
            return existing
        if payment.status != Payment.Status.REFUND_REQUIRED:
            raise Conflict(_("This payment needs no refund."), code="not_refundable")
        case = RefundCase.objects.create(
            merchant=merchant,
            order=order,
            payment=payment,
            customer_id=order.customer_id,
            kind=K.UNCLAIMED_PAYMENT,
            status=S.APPROVED,
            reason="paid after the order was closed",
            goods_amount=payment.amount,
            amount=payment.amount,
            provider=payment.provider,
            idempotency_key=f"RP{payment.out_trade_no}{secrets.token_hex(3).upper()}"[-64:],
            decided_at=timezone.now(),
        )
        case_opened(case, actor, "paid after the order was closed")
    refund_execute(case_id=case.pk)
    case.refresh_from_db()
    return case


def payment_refund_superseded(*, payment_id: int) -> str:
    """The automatic refund of a superseded payment whose money arrived: the case's status, or
    "skipped" when the payment needs no refund (any more)."""
    payment = (
        Payment.objects.filter(pk=payment_id, status=Payment.Status.REFUND_REQUIRED)
        .select_related("merchant")
        .first()
    )
    if payment is None:
        return "skipped"
    case = payment_refund_unclaimed(merchant=payment.merchant, payment_id=payment.pk, actor=None)
    return case.status
