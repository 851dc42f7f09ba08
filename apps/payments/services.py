import secrets
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import percent_of
from apps.core.state import compare_and_swap
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import order_get_for_customer, order_mark_paid

from .models import Payment
from .providers import InvalidNotification, provider_get
from .providers.base import PaymentNotification


def payment_start(
    *, merchant: Merchant, customer: User, order_id: int, provider: str = "sandbox"
) -> Payment:
    """The pending payment for an unpaid order (one is created the first time)."""
    order = order_get_for_customer(merchant=merchant, customer=customer, order_id=order_id)
    if order.status != Order.Status.PENDING_PAYMENT:
        raise Conflict(_("This order is not awaiting payment."), code="not_payable")
    if order.expires_at <= timezone.now():
        raise Conflict(_("This order has expired; place it again."), code="order_expired")
    provider_get(provider)
    existing = Payment.objects.filter(order=order, status=Payment.Status.PENDING).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Payment.objects.create(
                merchant=merchant,
                order=order,
                provider=provider,
                out_trade_no=f"FX{order.number}{secrets.token_hex(3).upper()}",
                amount=order.payable_amount,
            )
    except IntegrityError:
        return Payment.objects.get(order=order, status=Payment.Status.PENDING)


def payment_get_pending(*, out_trade_no: str) -> Payment:
    payment = Payment.objects.filter(out_trade_no=out_trade_no).select_related("order").first()
    if payment is None:
        raise NotFound(_("No such payment."), code="unknown_payment")
    return payment


def payment_handle_notification(*, provider: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Apply a provider's asynchronous notification. Idempotent and safe under concurrency.

    Raises DomainError (nothing written) for an untrusted or inconsistent notification. Returns what
    happened: "paid", "duplicate", "refund_required" (money for an order already closed) or "ignored"
    (a non-success notice).
    """
    try:
        notification = provider_get(provider).parse_notification(body=body, headers=headers)
    except InvalidNotification as error:
        raise DomainError(str(error), code="invalid_notification") from error
    if not notification.succeeded:
        return "ignored"
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(out_trade_no=notification.out_trade_no, provider=provider)
            .first()
        )
        if payment is None:
            raise NotFound(_("No such payment."), code="unknown_payment")
        if notification.amount != payment.amount:
            raise DomainError(
                _("Paid amount %(paid)s does not match the amount due %(due)s.")
                % {"paid": notification.amount, "due": payment.amount},
                code="amount_mismatch",
            )
        if payment.status != Payment.Status.PENDING:
            return "duplicate"
        return _payment_succeeded(payment=payment, notification=notification)


def _payment_succeeded(*, payment: Payment, notification: PaymentNotification) -> str:
    order = Order.objects.select_related("merchant").get(pk=payment.order_id)
    if order.status == Order.Status.PENDING_PAYMENT and order_mark_paid(order=order):
        fee = percent_of(payment.amount, order.merchant.platform_fee_percent)
        compare_and_swap(
            Payment.objects,
            pk=payment.pk,
            field="status",
            old=Payment.Status.PENDING,
            new=Payment.Status.SUCCEEDED,
            provider_trade_no=notification.provider_trade_no,
            succeeded_at=notification.paid_at,
            platform_fee=fee,
            merchant_net=payment.amount - fee,
        )
        return "paid"
    compare_and_swap(
        Payment.objects,
        pk=payment.pk,
        field="status",
        old=Payment.Status.PENDING,
        new=Payment.Status.REFUND_REQUIRED,
        provider_trade_no=notification.provider_trade_no,
        succeeded_at=notification.paid_at,
    )
    return "refund_required"
