"""The provider's word on a refund (its signed notification, or its answer when beat asks about a
case stuck refunding) and what a refunded case does.

refunding → refunded is a compare-and-swap in the transaction that returns stock (once), gives
back the platform fee's share, writes the ledger, publishes ``RefundCompleted`` (commissions claws
back), takes back member points and cancels an order refunded in full before shipping; a duplicate
notification finds the case refunded and changes nothing.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import events
from apps.core.errors import DomainError, NotFound
from apps.core.money import ZERO
from apps.core.state import compare_and_swap
from apps.ledger.posting import (
    SUPPLY_BORNE_BY_MERCHANT,
    SUPPLY_BORNE_BY_SUPPLIER,
    ledger_post_refund,
)
from apps.marketing.services import pricing_release
from apps.members.services import member_order_refunded
from apps.orders.models import Order
from apps.orders.services import order_transition
from apps.payments.models import Payment
from apps.payments.providers import (
    InvalidNotification,
    ProviderError,
    ProviderUnavailable,
    RefundNotification,
    provider_get,
)
from apps.products.services import sku_return_stock

from .. import prorata
from ..events import RefundCompleted
from ..models import RefundCase, RefundCaseLine
from .cases import K, S, case_with_provider, lock_case, refund_transition, refundable_lines

logger = logging.getLogger(__name__)


def refund_handle_notification(*, provider: str, body: bytes, headers) -> str:  # type: ignore[no-untyped-def]
    """Apply a provider's refund notification. Verified, idempotent, safe under concurrency.

    Returns "refunded", "failed", or "duplicate" (the case had already ended).
    """
    try:
        notice = provider_get(provider).parse_refund_notification(body=body, headers=headers)
    except ProviderUnavailable as error:
        raise NotFound(_("Unknown payment provider."), code="unknown_provider") from error
    except InvalidNotification as error:
        raise DomainError(str(error), code="invalid_notification") from error
    return _refund_apply(provider=provider, notice=notice)


def _refund_apply(*, provider: str, notice: RefundNotification) -> str:
    """A provider's verified word on a refund (its notification, or its answer to a query)."""
    cases = RefundCase.objects.filter(idempotency_key=notice.out_refund_no, provider=provider)
    if notice.merchant_id is not None:
        cases = cases.filter(merchant_id=notice.merchant_id)
    found = cases.only("pk", "order_id").first()
    if found is None:
        raise NotFound(_("No such refund."), code="unknown_refund")
    with transaction.atomic():
        case = lock_case(found)
        if notice.amount != case.amount:
            raise DomainError(
                _("Refunded amount %(paid)s does not match the refund %(due)s.")
                % {"paid": notice.amount, "due": case.amount},
                code="amount_mismatch",
            )
        if case.status not in (S.APPROVED, S.REFUNDING):
            return "duplicate"
        if not notice.succeeded:
            refund_transition(
                case=case,
                new=S.FAILED,
                reason=notice.failure_reason,
                failure_reason=notice.failure_reason[:255],
                provider_refund_no=notice.provider_refund_no,
            )
            return "failed"
        _refund_succeeded(case=case, provider_refund_no=notice.provider_refund_no)
        return "refunded"


def refunds_stuck_refunding(*, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Cases the provider accepted whose outcome never arrived (a notification lost, or a
    provider that does not send one): beat asks the provider about them."""
    cutoff = timezone.now() - older_than
    return list(
        RefundCase.objects.filter(status=S.REFUNDING, decided_at__lte=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )


def refund_query_outcome(*, case_id: int) -> str:
    """Ask the provider what became of a refunding case and apply its answer as a notification
    would: "refunded", "failed", "pending" (no final outcome yet, or the provider could not be
    asked: beat asks again) or "skipped" (not refunding any more)."""
    case, provider = case_with_provider(case_id, status=S.REFUNDING)
    if case is None or provider is None:
        return "skipped"
    try:
        notice = provider.refund_query(case.payment, case.idempotency_key)
    except ProviderError:
        logger.warning("refund %s: the provider could not be asked", case.idempotency_key)
        return "pending"
    if notice is None:
        return "pending"
    try:
        return _refund_apply(provider=case.provider, notice=notice)
    except DomainError:
        logger.exception("refund %s: the provider's answer was refused", case.idempotency_key)
        return "pending"


def _refunded_before(payment_id: int, case_id: int) -> Decimal:
    total = (
        RefundCase.objects.filter(payment_id=payment_id, status=S.REFUNDED)
        .exclude(pk=case_id)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or ZERO


def _supply_memo(*, case: RefundCase, lines: list[RefundCaseLine]) -> str:
    """The refund journal says who bore a refund of supplied lines (none: no memo)."""
    if not any(line.order_line.supplier_id for line in lines):
        return ""
    if case.supply_borne_by == RefundCase.SupplyBorneBy.SUPPLIER:
        return SUPPLY_BORNE_BY_SUPPLIER
    return SUPPLY_BORNE_BY_MERCHANT


def _refund_succeeded(*, case: RefundCase, provider_refund_no: str) -> None:
    """refunded: fee share, stock (once), commission clawback, ledger, the order's own state.
    Caller holds the transaction and the order and case locks."""
    payment = Payment.objects.get(pk=case.payment_id)
    order = Order.objects.get(pk=case.order_id)
    fee_share = prorata.platform_fee_share(
        fee=payment.platform_fee or ZERO,
        payment_amount=payment.amount,
        refunded_before=_refunded_before(payment.pk, case.pk),
        refund=case.amount,
    )
    # Goods come back to stock when they never left (the order is still unshipped) or when the
    # consumer returns them.
    restock = case.kind != K.UNCLAIMED_PAYMENT and (
        order.status == Order.Status.PAID or case.return_goods
    )
    refund_transition(
        case=case,
        new=S.REFUNDED,
        reason="provider confirmed",
        provider_refund_no=provider_refund_no,
        refunded_at=timezone.now(),
        platform_fee_share=fee_share,
        stock_returned=restock,
    )
    lines = list(
        RefundCaseLine.objects.filter(case=case).select_related("order_line").order_by("id")
    )
    if restock:
        sku_return_stock(
            lines=[(line.order_line.sku_id, line.quantity) for line in lines if line.quantity]
        )
    ledger_post_refund(
        merchant_id=case.merchant_id,
        refund_case_id=case.pk,
        order_id=case.order_id,
        payment_id=case.payment_id,
        amount=case.amount,
        fee_share=fee_share,
        reference=case.idempotency_key,
        memo=_supply_memo(case=case, lines=lines),
    )
    events.publish(
        RefundCompleted(
            merchant_id=case.merchant_id,
            refund_case_id=case.pk,
            order_id=case.order_id,
            order_line_ids=tuple(sorted(line.order_line_id for line in lines)),
        )
    )
    if case.kind != K.UNCLAIMED_PAYMENT:
        member_order_refunded(
            merchant_id=order.merchant_id,
            customer_id=order.customer_id,
            order_id=order.pk,
            refund_key=str(case.pk),
            refunded=case.amount,
            order_paid=order.payable_amount,
        )
    if case.kind == K.UNCLAIMED_PAYMENT:
        compare_and_swap(
            Payment.objects,
            pk=payment.pk,
            field="status",
            old=Payment.Status.REFUND_REQUIRED,
            new=Payment.Status.REFUNDED,
        )
    elif (
        order.status == Order.Status.PAID
        and all(item.amount <= ZERO for item in refundable_lines(order=order))
        and order_transition(
            order=order,
            new=Order.Status.CANCELLED,
            reason="refunded in full before shipping",
            cancelled_at=timezone.now(),
        )
    ):
        # Refunded in full before shipping: the coupon comes back while still valid, and the
        # points spent on the order (the stock came back above).
        pricing_release(
            merchant_id=order.merchant_id,
            order_id=order.pk,
            customer_id=order.customer_id,
            flash_lines=[],
        )
