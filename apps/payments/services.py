import secrets
from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import ZERO, percent_of
from apps.core.state import compare_and_swap
from apps.ledger.posting import ledger_post_payment
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import order_get_for_customer, order_mark_paid

from .events import PaymentSuperseded, SupersededPaymentArrived
from .models import Payment, PaymentNotificationLog
from .providers import (
    InvalidNotification,
    IsRefundNotification,
    ProviderUnavailable,
    provider_get,
)
from .providers.base import PaymentNotification


def payment_start(
    *,
    merchant: Merchant,
    customer: User,
    order_id: int,
    provider: str = "sandbox",
    client_ip: str | None = None,
) -> Payment:
    """The pending payment for an unpaid order (one is created the first time).

    ``client_ip`` is the consumer's address as the request came (``apps.core.client_ip``);
    WeChat Pay's H5 order sends it. A pending payment through another provider (the consumer
    picked Alipay after starting WeChat Pay) is superseded: closed here, then at its provider
    once this commits (``payment_close_at_provider``); money that still arrives for it is
    refunded automatically, never paid twice.

    The pending payments and then the order row are locked (the order a notification takes
    them in) while the order's status is checked and the payment written, so a cancel cannot
    slip in between and leave an open checkout on a cancelled order.
    """
    order = order_get_for_customer(merchant=merchant, customer=customer, order_id=order_id)
    try:
        provider_get(provider)
    except ProviderUnavailable as error:
        raise DomainError(
            _("This payment method is not available."), code="provider_unavailable"
        ) from error
    with transaction.atomic():
        payments_lock_pending(order_id=order.pk)
        status, expires_at = (
            Order.objects.select_for_update()
            .filter(pk=order.pk)
            .values_list("status", "expires_at")
            .get()
        )
        if status != Order.Status.PENDING_PAYMENT:
            raise Conflict(_("This order is not awaiting payment."), code="not_payable")
        if expires_at <= timezone.now():
            raise Conflict(_("This order has expired; place it again."), code="order_expired")
        existing = Payment.objects.filter(order=order, status=Payment.Status.PENDING).first()
        if existing is not None and existing.provider == provider:
            if client_ip and existing.payer_client_ip != client_ip:
                existing.payer_client_ip = client_ip
                existing.save(update_fields=["payer_client_ip"])
            return existing
        if existing is not None:
            compare_and_swap(
                Payment.objects,
                pk=existing.pk,
                field="status",
                old=Payment.Status.PENDING,
                new=Payment.Status.SUPERSEDED,
            )
            events.publish(
                PaymentSuperseded(
                    merchant_id=merchant.pk, payment_id=existing.pk, provider=existing.provider
                )
            )
        # One pending payment per order (a partial unique constraint); the order lock above
        # already serialises two starts for the same order.
        return Payment.objects.create(
            merchant=merchant,
            order=order,
            provider=provider,
            out_trade_no=f"FX{order.number}{secrets.token_hex(3).upper()}",
            amount=order.payable_amount,
            payer_client_ip=client_ip or None,
        )


def payment_close_at_provider(*, payment_id: int) -> str:
    """Close a superseded payment's checkout at its provider: "closed", or "skipped" when the
    payment is no longer superseded (its money arrived meanwhile). Raises ProviderError when
    the provider could not be asked (the task asks again)."""
    payment = Payment.objects.filter(pk=payment_id, status=Payment.Status.SUPERSEDED).first()
    if payment is None:
        return "skipped"
    try:
        provider = provider_get(payment.provider)
    except ProviderUnavailable:
        return "skipped"
    provider.close(payment)
    return "closed"


def payment_get_for_customer(*, customer: User, out_trade_no: str) -> Payment:
    payment = (
        Payment.objects.filter(out_trade_no=out_trade_no, order__customer=customer)
        .select_related("order__merchant")
        .first()
    )
    if payment is None:
        raise NotFound(_("No such payment."), code="unknown_payment")
    return payment


def payment_check_payable(*, payment: Payment) -> None:
    """Conflict unless the payment can still be paid: pending, its order awaiting payment.

    Code ``already_paid`` when it went through; ``payment_closed`` when the order was cancelled or
    has expired (nobody may pay for it any more).
    """
    if payment.status == Payment.Status.SUCCEEDED:
        raise Conflict(_("This order is already paid."), code="already_paid")
    order = payment.order
    if (
        payment.status != Payment.Status.PENDING
        or order.status != Order.Status.PENDING_PAYMENT
        or order.expires_at <= timezone.now()
    ):
        raise Conflict(
            _("This order can no longer be paid: it was cancelled or has expired."),
            code="payment_closed",
        )


def payment_close_pending(*, order_id: int) -> int:
    """Close the order's pending payment (the order was cancelled). Caller holds the transaction
    and has locked the payment rows first (``payments_lock_pending``)."""
    return Payment.objects.filter(order_id=order_id, status=Payment.Status.PENDING).update(
        status=Payment.Status.CLOSED
    )


def payments_lock_pending(*, order_id: int) -> None:
    """Lock the order's pending payments. Taken before the order row, in the same order as a
    notification takes them (payment, then order), so a cancel racing a notification cannot
    deadlock."""
    list(
        Payment.objects.select_for_update()
        .filter(order_id=order_id, status=Payment.Status.PENDING)
        .values_list("pk", flat=True)
    )


def payment_handle_notification(*, provider: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Apply a provider's asynchronous notification. Idempotent and safe under concurrency.

    Raises DomainError (nothing written) for an untrusted or inconsistent notification. Returns what
    happened: "paid", "duplicate", "refund_required" (money for an order already closed) or "ignored"
    (a non-success notice).
    """
    try:
        notification = provider_get(provider).parse_notification(body=body, headers=headers)
    except ProviderUnavailable as error:
        raise NotFound(_("Unknown payment provider."), code="unknown_provider") from error
    except IsRefundNotification as error:
        raise DomainError(str(error), code="refund_notification") from error
    except InvalidNotification as error:
        raise DomainError(str(error), code="invalid_notification") from error
    if not notification.succeeded:
        return "ignored"
    with transaction.atomic():
        payments = Payment.objects.filter(out_trade_no=notification.out_trade_no, provider=provider)
        if notification.merchant_id is not None:
            payments = payments.filter(merchant_id=notification.merchant_id)
        payment = payments.select_for_update().first()
        if payment is None:
            raise NotFound(_("No such payment."), code="unknown_payment")
        if notification.amount == payment.amount:
            if payment.status in (Payment.Status.CLOSED, Payment.Status.SUPERSEDED):
                # Money arrived for a checkout we had closed: record it for refund, never keep it.
                superseded = payment.status == Payment.Status.SUPERSEDED
                _payment_refund_required(
                    payment=payment, notification=notification, old=payment.status
                )
                if superseded:
                    # The order is paid (or payable) through the payment that replaced it.
                    events.publish(
                        SupersededPaymentArrived(
                            merchant_id=payment.merchant_id, payment_id=payment.pk
                        )
                    )
                return "refund_required"
            if payment.status != Payment.Status.PENDING:
                return "duplicate"
            return _payment_succeeded(payment=payment, notification=notification)
        # A signed notice whose amount disagrees: refused, and kept for reconciliation (the
        # provider says money moved that the ledger will never show).
        _notification_log_refused(
            payment=payment,
            provider=provider,
            notification=notification,
            outcome=PaymentNotificationLog.Outcome.AMOUNT_MISMATCH,
        )
    raise DomainError(
        _("Paid amount %(paid)s does not match the amount due %(due)s.")
        % {"paid": notification.amount, "due": payment.amount},
        code="amount_mismatch",
    )


NOTIFIED_AMOUNT_LIMIT = Decimal("1e10")


def _notification_log_refused(
    *, payment: Payment, provider: str, notification: PaymentNotification, outcome: str
) -> None:
    """One log row per refused notice; the provider's retries of it only count up. An amount too
    large for any payment column is refused without a row (no provider sends one)."""
    if abs(notification.amount) >= NOTIFIED_AMOUNT_LIMIT:
        return
    key = {
        "payment": payment,
        "provider_trade_no": notification.provider_trade_no[:64],
        "outcome": outcome,
        "notified_amount": notification.amount,
    }
    updated = PaymentNotificationLog.objects.filter(**key).update(
        times_received=F("times_received") + 1, last_received_at=timezone.now()
    )
    if not updated:
        PaymentNotificationLog.objects.bulk_create(
            [
                PaymentNotificationLog(
                    merchant_id=payment.merchant_id,
                    provider=provider,
                    expected_amount=payment.amount,
                    **key,
                )
            ],
            ignore_conflicts=True,
        )


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
        _payment_post_to_ledger(payment=payment, fee=fee)
        return "paid"
    _payment_refund_required(payment=payment, notification=notification, old=Payment.Status.PENDING)
    return "refund_required"


def _payment_refund_required(
    *, payment: Payment, notification: PaymentNotification, old: str
) -> None:
    compare_and_swap(
        Payment.objects,
        pk=payment.pk,
        field="status",
        old=old,
        new=Payment.Status.REFUND_REQUIRED,
        provider_trade_no=notification.provider_trade_no,
        succeeded_at=notification.paid_at,
    )
    # The money is at the provider and owed back to the consumer through the merchant: no fee.
    _payment_post_to_ledger(payment=payment, fee=ZERO, memo="refund required")


def _payment_post_to_ledger(*, payment: Payment, fee: Decimal, memo: str = "") -> None:
    ledger_post_payment(
        merchant_id=payment.merchant_id,
        payment_id=payment.pk,
        order_id=payment.order_id,
        amount=payment.amount,
        fee=fee,
        reference=payment.out_trade_no,
        memo=memo,
    )
