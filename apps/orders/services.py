"""Cart, order placement and the order state machine.

Every state change is ``order_transition``: a compare-and-swap on the status column plus a history
row, in one transaction. Whoever loses a race changes nothing.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import ZERO, quantize_money
from apps.core.state import check_transition, compare_and_swap
from apps.distributors.models import CustomerBinding, binding_in_force
from apps.merchants.models import Merchant
from apps.products.models import Sku

from .models import Cart, CartItem, Order, OrderLine, OrderStatusChange

S = Order.Status
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}
MAX_LINE_QUANTITY = 999


def _check_quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError(_("Quantity must be a whole number."), code="invalid_quantity")
    if quantity < 1:
        raise DomainError(_("Quantity must be at least 1."), code="invalid_quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise DomainError(
            _("At most %(max)d of one item per order.") % {"max": MAX_LINE_QUANTITY},
            code="invalid_quantity",
        )
    return quantity


def _sku_for_sale(*, merchant: Merchant, sku_id: int) -> Sku:
    """The merchant's on-sale SKU; another merchant's SKU acts as absent."""
    sku = Sku.objects.filter(merchant=merchant, pk=sku_id).select_related("product").first()
    if sku is None:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    if not (sku.is_active and sku.product.is_active):
        raise DomainError(
            _("“%(name)s” is no longer on sale.") % {"name": sku}, code="sku_inactive"
        )
    return sku


# --- Cart -------------------------------------------------------------------------------------


def cart_get_or_create(*, merchant: Merchant, customer: User) -> Cart:
    cart = Cart.objects.filter(merchant=merchant, customer=customer).first()
    if cart is not None:
        return cart
    Cart.objects.bulk_create([Cart(merchant=merchant, customer=customer)], ignore_conflicts=True)
    return Cart.objects.get(merchant=merchant, customer=customer)


def cart_add_item(*, merchant: Merchant, customer: User, sku_id: int, quantity: int) -> CartItem:
    """Add ``quantity`` of a SKU (added to what is already in the cart)."""
    _check_quantity(quantity)
    sku = _sku_for_sale(merchant=merchant, sku_id=sku_id)
    cart = cart_get_or_create(merchant=merchant, customer=customer)
    with transaction.atomic():
        item = CartItem.objects.select_for_update().filter(cart=cart, sku=sku).first()
        if item is None:
            try:
                with transaction.atomic():
                    return CartItem.objects.create(
                        merchant=merchant, cart=cart, sku=sku, quantity=quantity
                    )
            except IntegrityError:
                item = CartItem.objects.select_for_update().get(cart=cart, sku=sku)
        item.quantity = _check_quantity(item.quantity + quantity)
        item.save(update_fields=["quantity"])
        return item


def cart_set_quantity(
    *, merchant: Merchant, customer: User, item_id: int, quantity: int
) -> CartItem:
    _check_quantity(quantity)
    item = CartItem.objects.filter(merchant=merchant, cart__customer=customer, pk=item_id).first()
    if item is None:
        raise NotFound(_("This item is not in your cart."), code="unknown_cart_item")
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove_item(*, merchant: Merchant, customer: User, item_id: int) -> None:
    deleted, _unused = CartItem.objects.filter(
        merchant=merchant, cart__customer=customer, pk=item_id
    ).delete()
    if not deleted:
        raise NotFound(_("This item is not in your cart."), code="unknown_cart_item")


# --- Placing an order -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str
    address: str

    def validate(self) -> "Recipient":
        name, phone, address = self.name.strip(), self.phone.strip(), self.address.strip()
        if not (name and phone and address):
            raise DomainError(
                _("Recipient name, phone and address are required."), code="recipient"
            )
        if len(name) > 64 or len(phone) > 32 or len(address) > 255:
            raise DomainError(_("Recipient details are too long."), code="recipient")
        return Recipient(name, phone, address)


def _new_order_number() -> str:
    return timezone.now().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


def order_place_from_cart(
    *, merchant: Merchant, customer: User, recipient: Recipient, note: str = ""
) -> Order:
    """Turn the customer's cart in this store into an order (the cart is emptied)."""
    with transaction.atomic():
        # Lock the cart first: a checkout submitted twice at once must not turn one cart into two
        # orders. The second submission waits here, then finds the cart empty.
        list(Cart.objects.select_for_update().filter(merchant=merchant, customer=customer))
        items = list(
            CartItem.objects.filter(merchant=merchant, cart__customer=customer)
            .select_related("sku__product")
            .order_by("sku_id")
        )
        if not items:
            raise DomainError(_("Your cart is empty."), code="empty_cart")
        order = _order_create(
            merchant=merchant,
            customer=customer,
            lines=[(item.sku, item.quantity) for item in items],
            recipient=recipient,
            note=note,
        )
        CartItem.objects.filter(pk__in=[item.pk for item in items]).delete()
    return order


def order_place(
    *,
    merchant: Merchant,
    customer: User,
    lines: list[tuple[int, int]],
    recipient: Recipient,
    note: str = "",
) -> Order:
    """Place an order for explicit (sku id, quantity) lines ("buy now", and the API)."""
    if not lines:
        raise DomainError(_("An order needs at least one item."), code="empty_order")
    quantities: dict[int, int] = {}
    for sku_id, quantity in lines:
        quantities[sku_id] = _check_quantity(quantities.get(sku_id, 0) + _check_quantity(quantity))
    skus = {
        sku.pk: sku
        for sku in Sku.objects.filter(merchant=merchant, pk__in=quantities).select_related(
            "product"
        )
    }
    missing = set(quantities) - set(skus)
    if missing:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    with transaction.atomic():
        return _order_create(
            merchant=merchant,
            customer=customer,
            lines=[(skus[sku_id], quantities[sku_id]) for sku_id in sorted(quantities)],
            recipient=recipient,
            note=note,
        )


def _upline_snapshot(*, merchant: Merchant, customer: User) -> tuple[int | None, ...]:
    """(level 1, level 2, level 3) distributor ids for the customer's order, None where absent.

    One joined query over the binding and two parents. The chain stops below the buyer: nobody earns
    commission on their own purchase, even if the tree was rearranged after the binding was made.
    """
    row = next(
        iter(
            CustomerBinding.objects.filter(merchant=merchant, customer=customer)
            .filter(binding_in_force(timezone.now()))  # an expired binding (N days) pays no one
            .values_list(
                "distributor_id",
                "distributor__user_id",
                "distributor__parent_id",
                "distributor__parent__user_id",
                "distributor__parent__parent_id",
                "distributor__parent__parent__user_id",
            )
        ),
        (None,) * 6,
    )
    chain: list[int | None] = []
    for distributor_id, user_id in zip(row[0::2], row[1::2], strict=True):
        if distributor_id is None or user_id == customer.pk:
            break
        chain.append(distributor_id)
    return tuple(chain + [None] * (3 - len(chain)))


def _order_create(
    *,
    merchant: Merchant,
    customer: User,
    lines: list[tuple[Sku, int]],
    recipient: Recipient,
    note: str,
) -> Order:
    """Reserve stock, snapshot prices and the upline, write the order. Caller holds a transaction.

    ``lines`` are sorted by SKU id so concurrent orders take row locks in the same order.
    """
    if not merchant.is_active:
        raise NotFound(_("This store is not open."))
    recipient = recipient.validate()
    for sku, quantity in lines:
        _check_quantity(quantity)
        if not (sku.is_active and sku.product.is_active):
            raise DomainError(
                _("“%(name)s” is no longer on sale.") % {"name": sku}, code="sku_inactive"
            )
    for sku, quantity in lines:
        reserved = Sku.objects.filter(pk=sku.pk, stock__gte=quantity, is_active=True).update(
            stock=F("stock") - quantity
        )
        if not reserved:
            raise Conflict(
                _("Not enough stock of “%(name)s”.") % {"name": sku}, code="out_of_stock"
            )
    level1_id, level2_id, level3_id = _upline_snapshot(merchant=merchant, customer=customer)
    now = timezone.now()
    goods = quantize_money(sum((sku.price * quantity for sku, quantity in lines), ZERO))
    order = Order.objects.create(
        merchant=merchant,
        number=_new_order_number(),
        customer=customer,
        goods_amount=goods,
        discount_amount=ZERO,
        shipping_amount=ZERO,
        payable_amount=goods,
        distributor_id=level1_id,
        level2_distributor_id=level2_id,
        level3_distributor_id=level3_id,
        recipient_name=recipient.name,
        recipient_phone=recipient.phone,
        shipping_address=recipient.address,
        note=note.strip()[:255],
        expires_at=now + timedelta(minutes=settings.FENXIAO_UNPAID_ORDER_TTL_MINUTES),
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                merchant=merchant,
                order=order,
                sku=sku,
                product=sku.product,
                product_name=sku.product.name,
                sku_name=sku.name,
                unit_price=sku.price,
                quantity=quantity,
                paid_amount=quantize_money(sku.price * quantity),
            )
            for sku, quantity in lines
        ]
    )
    OrderStatusChange.objects.create(
        merchant=merchant, order=order, from_status="", to_status=S.PENDING_PAYMENT, actor=customer
    )
    return order


# --- The state machine ------------------------------------------------------------------------


def order_transition(
    *, order: Order, new: str, actor: User | None = None, reason: str = "", **updates
) -> bool:
    """Apply one transition as compare-and-swap from ``order.status``; record it; True if applied.

    Must run inside a transaction so the history row commits with the change.
    """
    check_transition(ORDER_TRANSITIONS, order.status, new)
    old = order.status
    if not compare_and_swap(
        Order.objects, pk=order.pk, field="status", old=old, new=new, **updates
    ):
        return False
    OrderStatusChange.objects.create(
        merchant_id=order.merchant_id,
        order=order,
        from_status=old,
        to_status=new,
        actor=actor,
        reason=reason,
    )
    order.status = new
    for field, value in updates.items():
        setattr(order, field, value)
    return True


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

    False if it was no longer unpaid (a payment notification won the race).
    """
    from apps.payments.services import payment_close_pending, payments_lock_pending

    if order.status != S.PENDING_PAYMENT:
        raise Conflict(_("Only an unpaid order can be cancelled."), code="invalid_transition")
    with transaction.atomic():
        payments_lock_pending(order=order)
        if not order_transition(
            order=order, new=S.CANCELLED, actor=actor, reason=reason, cancelled_at=timezone.now()
        ):
            return False
        payment_close_pending(order=order)
        for line in (
            OrderLine.objects.filter(order=order).order_by("sku_id").only("sku_id", "quantity")
        ):
            Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + line.quantity)
    return True


def order_mark_paid(*, order: Order) -> bool:
    """pending_payment → paid. Caller (the payment service) holds the transaction.

    Once it commits, the spending threshold (recruitment mode 满额) is checked for the customer."""
    from apps.distributors.tasks import threshold_grant_on_commit

    if not order_transition(order=order, new=S.PAID, paid_at=timezone.now()):
        return False
    threshold_grant_on_commit(
        merchant_id=order.merchant_id, customer_id=order.customer_id, order_id=order.pk
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
    return order


def order_complete(*, order: Order, actor: User | None = None, reason: str = "") -> bool:
    """shipped → completed; settlement is enqueued when the transaction commits."""
    from apps.commissions.tasks import commission_settle_order_task
    from apps.distributors.tasks import tier_evaluate_on_commit

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
        if commission_status == Order.CommissionStatus.PENDING:
            order_id = order.pk
            transaction.on_commit(lambda: commission_settle_order_task.delay(order_id))
        tier_evaluate_on_commit(
            order.merchant_id,
            order.distributor_id,
            order.level2_distributor_id,
            order.level3_distributor_id,
        )
    return True


def order_confirm_receipt(*, merchant: Merchant, customer: User, order_id: int) -> Order:
    order = order_get_for_customer(merchant=merchant, customer=customer, order_id=order_id)
    if order.status == S.COMPLETED:
        return order
    order_complete(order=order, actor=customer, reason="confirmed by customer")
    order.refresh_from_db()
    return order


def orders_cancel_expired(*, now=None, limit: int = 500) -> int:
    now = now or timezone.now()
    cancelled = 0
    for order in Order.objects.filter(status=S.PENDING_PAYMENT, expires_at__lte=now).order_by("id")[
        :limit
    ]:
        cancelled += order_cancel(order=order, reason="unpaid, expired")
    return cancelled


def orders_auto_complete(*, now=None, limit: int = 500) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.FENXIAO_AUTO_COMPLETE_DAYS)
    completed = 0
    for order in Order.objects.filter(status=S.SHIPPED, shipped_at__lte=cutoff).order_by("id")[
        :limit
    ]:
        completed += order_complete(order=order, reason="auto-completed after shipping")
    return completed
