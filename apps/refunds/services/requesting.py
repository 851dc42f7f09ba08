"""Opening a refund case: the consumer's request (the whole order, a line, units of a line, or an
amount of it), the merchant's refund in full of a paid, unshipped order, and the consumer
withdrawing a request not decided yet.

Every opening is bounded, under the order lock, by what is still refundable (paid minus every case
that is open or refunded), so concurrent cases can never exceed it.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import ZERO, NotTwoPlaces, parse_two_places
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.orders.services import order_get_for_customer
from apps.payments.models import Payment

from .. import prorata
from ..models import RefundCase, RefundCaseLine
from .cases import (
    REFUNDABLE_ORDER_STATUSES,
    K,
    LineRefundable,
    S,
    case_opened,
    checked_reason,
    lock_case,
    lock_order,
    refund_get_for_customer,
    refund_transition,
    refundable_lines,
)


@dataclass(frozen=True)
class RefundLineRequest:
    """One line of a request: ``quantity`` units, or ``amount`` of its paid amount (kind AMOUNT)."""

    order_line_id: int
    quantity: int | None = None
    amount: Decimal | str | None = None


def _shipping_held(order_id: int) -> bool:
    return RefundCase.objects.filter(
        order_id=order_id, status__in=RefundCase.HOLDING_STATUSES, shipping_amount__gt=0
    ).exists()


def _money(value: object) -> Decimal:
    try:
        amount = parse_two_places(value)
    except NotTwoPlaces as error:
        raise DomainError(_("Enter an amount such as 12.50."), code="invalid_amount") from error
    if amount <= ZERO:
        raise DomainError(_("The amount must be more than zero."), code="invalid_amount")
    return amount


def _units(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DomainError(
            _("Quantity must be a whole number of at least 1."), code="invalid_quantity"
        )
    return value


def _build_lines(
    *, kind: str, refundable: list[LineRefundable], requested: list[RefundLineRequest]
) -> list[tuple[LineRefundable, int, Decimal]]:
    """(line, units, amount) per line of the request, each within what is still refundable."""
    by_id = {item.line.pk: item for item in refundable}
    if kind == K.ORDER:
        chosen = [(item, item.units, item.amount) for item in refundable if item.amount > ZERO]
        if not chosen:
            raise Conflict(_("Nothing is left to refund on this order."), code="nothing_refundable")
        return chosen
    if not requested:
        raise DomainError(_("Choose the item to refund."), code="line_required")
    seen: set[int] = set()
    chosen = []
    for wanted in requested:
        item = by_id.get(wanted.order_line_id)
        if item is None:
            raise NotFound(_("No such item in this order."), code="unknown_order_line")
        if item.line.pk in seen:
            raise DomainError(_("Each item can be named once."), code="duplicate_line")
        seen.add(item.line.pk)
        if item.amount <= ZERO:
            raise Conflict(
                _("Nothing is left to refund on “%(name)s”.") % {"name": item.line.product_name},
                code="nothing_refundable",
            )
        if kind == K.LINE:
            chosen.append((item, item.units, item.amount))
        elif kind == K.QUANTITY:
            units = _units(wanted.quantity)
            if units > item.units:
                raise Conflict(
                    _("At most %(n)d of “%(name)s” can still be refunded.")
                    % {"n": item.units, "name": item.line.product_name},
                    code="quantity_exceeds_refundable",
                )
            amount = (
                item.amount
                if units == item.units
                else min(
                    item.amount,
                    prorata.quantity_amount(
                        line_paid=item.line.paid_amount,
                        line_quantity=item.line.quantity,
                        units_before=item.units_held,
                        units=units,
                    ),
                )
            )
            chosen.append((item, units, amount))
        elif kind == K.AMOUNT:
            amount = _money(wanted.amount)
            if amount > item.amount:
                raise Conflict(
                    _("At most %(amount)s of “%(name)s” can still be refunded.")
                    % {"amount": item.amount, "name": item.line.product_name},
                    code="amount_exceeds_refundable",
                )
            chosen.append((item, 0, amount))
        else:
            raise DomainError(_("Unknown kind of refund."), code="invalid_kind")
    return [entry for entry in chosen if entry[2] > ZERO]


def refund_request(
    *,
    merchant: Merchant,
    customer: User,
    order_id: int,
    kind: str,
    reason: str,
    return_goods: bool = False,
    lines: list[RefundLineRequest] | None = None,
) -> RefundCase:
    """A consumer asks for a refund of a paid, shipped or completed order.

    ``kind``: ORDER (everything still refundable; shipping too while the order is unshipped),
    LINE (what is left of the named lines), QUANTITY (units of a line, worth their pro-rata share
    of its paid amount) or AMOUNT (an amount of a line's paid amount, goods kept). Shipping is
    refunded only with the whole order before it ships. Bounded, under the order lock, by what is
    not already held by an open or refunded case.
    """
    reason = checked_reason(reason)
    if kind not in (K.ORDER, K.LINE, K.QUANTITY, K.AMOUNT):
        raise DomainError(_("Unknown kind of refund."), code="invalid_kind")
    order = order_get_for_customer(merchant=merchant, customer=customer, order_id=order_id)
    with transaction.atomic():
        order = lock_order(order.pk)
        if order.status not in REFUNDABLE_ORDER_STATUSES:
            raise Conflict(_("This order cannot be refunded."), code="not_refundable")
        payment = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise Conflict(_("This order has no payment to refund."), code="not_refundable")
        chosen = _build_lines(
            kind=kind, refundable=refundable_lines(order=order), requested=list(lines or [])
        )
        if not chosen:
            raise Conflict(_("Nothing is left to refund."), code="nothing_refundable")
        shipping = ZERO
        if kind == K.ORDER and order.status == Order.Status.PAID and not _shipping_held(order.pk):
            shipping = order.shipping_amount
        case = _case_create(
            order=order,
            payment=payment,
            kind=kind,
            reason=reason,
            return_goods=bool(return_goods) and kind != K.AMOUNT,
            chosen=chosen,
            shipping=shipping,
        )
        case_opened(case, customer, reason)
    return case


def _case_create(
    *,
    order: Order,
    payment: Payment,
    kind: str,
    reason: str,
    return_goods: bool,
    chosen: list[tuple[LineRefundable, int, Decimal]],
    shipping: Decimal,
    status: str = S.REQUESTED,
) -> RefundCase:
    """Write a case and its lines (caller holds the order lock and has bounded ``chosen``)."""
    goods = sum((amount for _item, _units, amount in chosen), ZERO)
    case = RefundCase.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        payment=payment,
        customer_id=order.customer_id,
        kind=kind,
        status=status,
        reason=reason,
        return_goods=return_goods,
        goods_amount=goods,
        shipping_amount=shipping,
        amount=goods + shipping,
        provider=payment.provider,
        idempotency_key=f"RF{order.number}{secrets.token_hex(3).upper()}",
        decided_at=timezone.now() if status == S.APPROVED else None,
    )
    RefundCaseLine.objects.bulk_create(
        [
            RefundCaseLine(
                merchant_id=order.merchant_id,
                case=case,
                order_line=item.line,
                quantity=0 if kind == K.AMOUNT else units,
                amount=amount,
            )
            for item, units, amount in chosen
        ]
    )
    return case


def refund_open_in_full(
    *, merchant: Merchant, order_id: int, reason: str, actor: User | None = None
) -> RefundCase:
    """The merchant's side gives back everything still refundable on a paid, unshipped order,
    shipping included, with no request from the consumer (e.g. a group buy that failed to fill).

    The case is approved at once; the caller hands it to the provider with ``refund_execute``
    once its transaction commits (beat's sweeper asks again for a case left approved). Under the
    order lock, bounded like any request: a second call finds nothing left (Conflict
    ``nothing_refundable``), so an order is never refunded twice. On the provider's confirmation
    the order is cancelled, its stock, coupon and points come back and no commission is due, as
    for any full refund before shipping."""
    reason = checked_reason(reason)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(merchant=merchant, pk=order_id).first()
        if order is None:
            raise NotFound(_("No such order."), code="unknown_order")
        if order.status != Order.Status.PAID:
            raise Conflict(
                _("Only a paid, unshipped order can be refunded so."), code="not_refundable"
            )
        payment = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise Conflict(_("This order has no payment to refund."), code="not_refundable")
        chosen = _build_lines(kind=K.ORDER, refundable=refundable_lines(order=order), requested=[])
        case = _case_create(
            order=order,
            payment=payment,
            kind=K.ORDER,
            reason=reason,
            return_goods=False,
            chosen=chosen,
            shipping=ZERO if _shipping_held(order.pk) else order.shipping_amount,
            status=S.APPROVED,
        )
        case_opened(case, actor, reason)
    return case


def refund_cancel(*, merchant: Merchant, customer: User, case_id: int) -> RefundCase:
    """The consumer withdraws a request the merchant has not decided yet."""
    case = refund_get_for_customer(merchant=merchant, customer=customer, case_id=case_id)
    with transaction.atomic():
        case = lock_case(case)
        if case.status != S.REQUESTED:
            raise Conflict(
                _("Only a refund still awaiting review can be withdrawn."),
                code="invalid_transition",
            )
        refund_transition(
            case=case, new=S.CANCELLED, actor=customer, reason="withdrawn by customer"
        )
    return case
