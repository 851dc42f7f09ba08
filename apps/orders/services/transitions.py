"""The order state machine: every step is ``order_transition`` (``apps.core.state.transition``: a
compare-and-swap on the status plus a history row, in one transaction); whoever loses a race
changes nothing.

The steps that concern the apps above orders publish events (``apps.orders.events``) in the step's
transaction: payments closes a cancelled order's checkout, commissions settles a completed order,
the programme grants the spending threshold and re-evaluates tiers. Orders imports none of them.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.state import transition
from apps.marketing.services import pricing_release
from apps.members.services import member_order_completed
from apps.merchants.models import Merchant
from apps.products.services import sku_return_stock
from apps.tenancy.scope import tenant_scope

from ..events import OrderCancelled, OrderCancelling, OrderCompleted, OrderPaid, OrderShipped
from ..models import Order, OrderHold, OrderLine, OrderStatusChange

S = Order.Status
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    # paid → cancelled: refunded in full before shipping (apps.refunds).
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}


def order_transition(
    *, order: Order, new: str, actor: User | None = None, reason: str = "", **updates
) -> bool:
    """Apply one transition as compare-and-swap from ``order.status``; record it; True if applied.

    Must run inside a transaction so the history row commits with the change. An order under a
    shipping hold (``OrderHold``) cannot ship: Conflict ``order_on_hold``.
    """
    if new == S.SHIPPED:
        order_check_not_held(order_id=order.pk)
    return transition(
        order,
        new,
        transitions=ORDER_TRANSITIONS,
        history=OrderStatusChange,
        history_field="order",
        actor=actor,
        reason=reason,
        **updates,
    )


def order_check_not_held(*, order_id: int) -> None:
    """Conflict ``order_on_hold`` while the order has a shipping hold (e.g. its group is filling)."""
    hold = OrderHold.objects.filter(order_id=order_id).order_by("id").first()
    if hold is not None:
        raise Conflict(
            _("This order cannot ship yet: %(reason)s.") % {"reason": hold.get_reason_display()},
            code="order_on_hold",
        )


def order_hold_place(*, order: Order, reason: str) -> OrderHold:
    """Hold ``order`` back from shipping for ``reason`` (in the transaction that places it)."""
    return OrderHold.objects.create(merchant_id=order.merchant_id, order=order, reason=reason)


def order_holds_release(*, order_ids: list[int], reason: str) -> int:
    """Lift the ``reason`` holds of these orders; how many were lifted."""
    deleted, _by_model = OrderHold.objects.filter(order_id__in=order_ids, reason=reason).delete()
    return deleted


def order_get_for_customer(*, merchant: Merchant, customer: User, order_id: int) -> Order:
    order = Order.objects.filter(merchant=merchant, customer=customer, pk=order_id).first()
    if order is None:
        raise NotFound(_("No such order."), code="unknown_order")
    return order


def order_get_for_merchant(*, merchant: Merchant, order_id: int) -> Order:
    order = Order.objects.filter(merchant=merchant, pk=order_id).first()
    if order is None:
        raise NotFound(_("No such order."), code="unknown_order")
    return order


def order_cancel(*, order: Order, actor: User | None = None, reason: str = "") -> bool:
    """Cancel an unpaid order, close its pending payment and give its stock back.

    False if it was no longer unpaid (a payment notification won the race). The subscribers of
    ``OrderCancelling`` lock their rows (the pending payments) before the order row is touched.
    """
    if order.status != S.PENDING_PAYMENT:
        raise Conflict(_("Only an unpaid order can be cancelled."), code="invalid_transition")
    with transaction.atomic():
        events.publish(OrderCancelling(merchant_id=order.merchant_id, order_id=order.pk))
        if not order_transition(
            order=order, new=S.CANCELLED, actor=actor, reason=reason, cancelled_at=timezone.now()
        ):
            return False
        events.publish(OrderCancelled(merchant_id=order.merchant_id, order_id=order.pk))
        order_release_goods_and_discounts(order=order)
    return True


def order_release_goods_and_discounts(*, order: Order, return_coupon: bool = True) -> None:
    """Give back what placing ``order`` took: SKU stock, flash units (to their pool while the
    sale is open), the coupon (if still valid and ``return_coupon``) and the points spent.

    The caller's transition of the order (to cancelled) is the guard that this runs once."""
    flash_lines: list[tuple[int, int]] = []
    stock_lines: list[tuple[int, int]] = []
    for sku_id, quantity, flash_sale_id in (
        OrderLine.objects.filter(order=order)
        .order_by("sku_id")
        .values_list("sku_id", "quantity", "flash_sale_id")
    ):
        if flash_sale_id is not None:
            flash_lines.append((flash_sale_id, quantity))
        else:
            stock_lines.append((sku_id, quantity))
    sku_return_stock(lines=stock_lines)
    pricing_release(
        merchant_id=order.merchant_id,
        order_id=order.pk,
        customer_id=order.customer_id,
        flash_lines=flash_lines,
        return_coupon=return_coupon,
    )


def order_mark_paid(*, order: Order) -> bool:
    """pending_payment → paid. Caller (the payment service) holds the transaction.

    Publishes ``OrderPaid`` (the spending threshold, recruitment mode 满额, is checked for the
    customer once it commits)."""
    if not order_transition(order=order, new=S.PAID, paid_at=timezone.now()):
        return False
    events.publish(
        OrderPaid(merchant_id=order.merchant_id, order_id=order.pk, customer_id=order.customer_id)
    )
    return True


def order_ship(
    *, merchant: Merchant, order_id: int, carrier: str, tracking_number: str, actor: User | None
) -> Order:
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or not tracking_number:
        raise DomainError(_("Carrier and tracking number are required."), code="tracking_required")
    order = order_get_for_merchant(merchant=merchant, order_id=order_id)
    if order.status != S.PAID:
        raise Conflict(_("Only a paid order can be shipped."), code="invalid_transition")
    order_check_not_held(order_id=order.pk)
    if OrderLine.objects.filter(order=order, supplier__isnull=False).exists():
        raise Conflict(
            _(
                "Suppliers ship part of this order: ship your own parcel under Shipments; the "
                "order is shipped when every parcel is."
            ),
            code="ship_by_parcel",
        )
    with transaction.atomic():
        if not order_transition(
            order=order,
            new=S.SHIPPED,
            actor=actor,
            shipped_at=timezone.now(),
            shipping_carrier=carrier[:64],
            tracking_number=tracking_number[:64],
        ):
            raise Conflict(_("This order changed meanwhile; reload it."), code="invalid_transition")
        events.publish(OrderShipped(merchant_id=order.merchant_id, order_id=order.pk))
    return order


def order_complete(*, order: Order, actor: User | None = None, reason: str = "") -> bool:
    """shipped → completed; publishes ``OrderCompleted`` (settlement is enqueued when the
    transaction commits)."""
    if order.status != S.SHIPPED:
        raise Conflict(_("Only a shipped order can be completed."), code="invalid_transition")
    commission_status = (
        Order.CommissionStatus.PENDING if order.distributor_id else Order.CommissionStatus.NONE
    )
    with transaction.atomic():
        if not order_transition(
            order=order,
            new=S.COMPLETED,
            actor=actor,
            reason=reason,
            completed_at=timezone.now(),
            commission_status=commission_status,
        ):
            return False
        member_order_completed(
            merchant_id=order.merchant_id,
            customer_id=order.customer_id,
            order_id=order.pk,
            paid=order.payable_amount - order.shipping_amount,
        )
        events.publish(
            OrderCompleted(
                merchant_id=order.merchant_id,
                order_id=order.pk,
                beneficiary_ids=tuple(pk for _level, pk in order.beneficiary_ids),
                commission_due=commission_status == Order.CommissionStatus.PENDING,
            )
        )
    return True


def order_confirm_receipt(*, merchant: Merchant, customer: User, order_id: int) -> Order:
    order = order_get_for_customer(merchant=merchant, customer=customer, order_id=order_id)
    if order.status == S.COMPLETED:
        return order
    order_complete(order=order, actor=customer, reason="confirmed by customer")
    order.refresh_from_db()
    return order


def orders_cancel_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    cancelled = 0
    for order in Order.objects.filter(status=S.PENDING_PAYMENT, expires_at__lte=now).order_by("id")[
        :limit
    ]:
        # Found across stores; cancelled inside its own store (row-level security the wall).
        with tenant_scope(merchant_id=order.merchant_id):
            cancelled += order_cancel(order=order, reason="unpaid, expired")
    return cancelled


def orders_auto_complete(*, now: datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.FENXIAO_AUTO_COMPLETE_DAYS)
    completed = 0
    for order in Order.objects.filter(status=S.SHIPPED, shipped_at__lte=cutoff).order_by("id")[
        :limit
    ]:
        with tenant_scope(merchant_id=order.merchant_id):
            completed += order_complete(order=order, reason="auto-completed after shipping")
    return completed
