"""Cart, order placement and the order state machine.

Every state change is ``order_transition``: a compare-and-swap on the status column plus a history
row, in one transaction. Whoever loses a race changes nothing.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import ZERO, quantize_money
from apps.core.state import check_transition, compare_and_swap
from apps.distributors.agency import SkuPricing, agency_prices
from apps.distributors.models import (
    CustomerBinding,
    Distributor,
    ProgrammeSettings,
    binding_in_force,
)
from apps.distributors.selectors import programme_settings_for
from apps.distributors.services import distributor_get_by_code
from apps.merchants.models import Merchant
from apps.products.models import Sku

from .models import Cart, CartItem, Order, OrderLine, OrderStatusChange

S = Order.Status
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    # paid → cancelled: refunded in full before shipping (apps.refunds).
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED}),
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


def _shop_of(*, merchant: Merchant, shop_code: str | None) -> Distributor | None:
    """The active distributor whose micro-shop (微店) has this invite code; None without a code."""
    if not shop_code:
        return None
    return distributor_get_by_code(merchant=merchant, code=shop_code)


def cart_add_item(
    *,
    merchant: Merchant,
    customer: User,
    sku_id: int,
    quantity: int,
    shop_code: str | None = None,
) -> CartItem:
    """Add ``quantity`` of a SKU (added to what is already in the cart).

    ``shop_code``: the invite code of the micro-shop it was added from (unknown → NotFound). The
    line records the shop of its latest addition (None from the plain store): one price per line.
    No price is ever taken from the request: it is worked out from the shop when read and placed.
    """
    _check_quantity(quantity)
    sku = _sku_for_sale(merchant=merchant, sku_id=sku_id)
    shop = _shop_of(merchant=merchant, shop_code=shop_code)
    cart = cart_get_or_create(merchant=merchant, customer=customer)
    with transaction.atomic():
        item = CartItem.objects.select_for_update().filter(cart=cart, sku=sku).first()
        if item is None:
            try:
                with transaction.atomic():
                    return CartItem.objects.create(
                        merchant=merchant,
                        cart=cart,
                        sku=sku,
                        quantity=quantity,
                        agency_distributor=shop,
                    )
            except IntegrityError:
                item = CartItem.objects.select_for_update().get(cart=cart, sku=sku)
        item.quantity = _check_quantity(item.quantity + quantity)
        item.agency_distributor = shop
        item.save(update_fields=["quantity", "agency_distributor"])
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
    *,
    merchant: Merchant,
    customer: User,
    recipient: Recipient,
    note: str = "",
    expected_total: Decimal | None = None,
) -> Order:
    """Turn the customer's cart in this store into an order (the cart is emptied).

    Lines are priced as they are in force now (a micro-shop's price moved into the current floor
    and ceiling). ``expected_total``: the total the customer was shown; if prices changed since,
    nothing is placed (Conflict ``prices_changed``) and the customer reviews the cart.
    """
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
            shops=[item.agency_distributor_id for item in items],
            recipient=recipient,
            note=note,
            expected_total=expected_total,
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
    shop_code: str | None = None,
    expected_total: Decimal | None = None,
) -> Order:
    """Place an order for explicit (sku id, quantity) lines ("buy now", and the API).

    ``shop_code``: bought in that distributor's micro-shop (priced as ``order_place_from_cart``).
    """
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
    shop = _shop_of(merchant=merchant, shop_code=shop_code)
    with transaction.atomic():
        return _order_create(
            merchant=merchant,
            customer=customer,
            lines=[(skus[sku_id], quantities[sku_id]) for sku_id in sorted(quantities)],
            shops=[shop.pk if shop else None] * len(quantities),
            recipient=recipient,
            note=note,
            expected_total=expected_total,
        )


def _upline_snapshot(
    *, merchant: Merchant, customer: User, programme: ProgrammeSettings
) -> tuple[int | None, ...]:
    """(level 1, level 2, level 3) distributor ids for the customer's order, None where absent.

    With self-purchase commission (自购返佣) on and the buyer an active distributor of the store,
    the buyer's own profile is level 1 and their inviter and its inviter levels 2 and 3 (one query).
    Otherwise: one joined query over the binding and two parents, and the chain stops below the
    buyer — nobody earns on their own purchase, even if the tree was rearranged after the binding.
    """
    if programme.self_purchase_commission:
        own = next(
            iter(
                Distributor.objects.filter(
                    merchant=merchant, user=customer, status=Distributor.Status.ACTIVE
                ).values_list("id", "parent_id", "parent__parent_id")
            ),
            None,
        )
        if own is not None:
            return own
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
    shops: list[int | None],
    recipient: Recipient,
    note: str,
    expected_total: Decimal | None = None,
) -> Order:
    """Reserve stock, snapshot prices and the upline, write the order. Caller holds a transaction.

    ``lines`` are sorted by SKU id so concurrent orders take row locks in the same order;
    ``shops`` gives each line's micro-shop distributor id (or None). Prices, floors and ceilings
    are read by the statement that reserves the stock, under the SKU's row lock: a concurrent
    change of a price or a floor is wholly before or wholly after this order.
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
    pricing = [_reserve_stock(sku=sku, quantity=quantity) for sku, quantity in lines]
    programme = programme_settings_for(merchant=merchant)
    agency = agency_prices(
        merchant=merchant,
        buyer_id=customer.pk,
        requests=list(zip(pricing, shops, strict=True)),
        programme=programme,
    )
    unit_prices = [
        quote.unit_price if quote is not None else current.price
        for current, quote in zip(pricing, agency, strict=True)
    ]
    level1_id, level2_id, level3_id = _upline_snapshot(
        merchant=merchant, customer=customer, programme=programme
    )
    now = timezone.now()
    goods = quantize_money(
        sum(
            (price * quantity for price, (_sku, quantity) in zip(unit_prices, lines, strict=True)),
            ZERO,
        )
    )
    if expected_total is not None and expected_total != goods:
        raise Conflict(
            _(
                "Prices in your cart changed since you saw them (now ¥%(total)s in all). "
                "Please review your cart and check out again."
            )
            % {"total": goods},
            code="prices_changed",
        )
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
                unit_price=price,
                quantity=quantity,
                paid_amount=quantize_money(price * quantity),
                agency_distributor_id=quote.distributor_id if quote else None,
                agency_unit_cost=quote.unit_cost if quote else None,
            )
            for (sku, quantity), price, quote in zip(lines, unit_prices, agency, strict=True)
        ]
    )
    OrderStatusChange.objects.create(
        merchant=merchant, order=order, from_status="", to_status=S.PENDING_PAYMENT, actor=customer
    )
    return order


def _reserve_stock(*, sku: Sku, quantity: int) -> SkuPricing:
    """Take ``quantity`` from the SKU's stock and return its price fields as of that moment.

    One statement: ``UPDATE … WHERE stock >= n RETURNING`` locks the row and reads the price, floor
    and ceiling in force (not those loaded before the lock was taken).
    """
    table = Sku._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET stock = stock - %s "  # noqa: S608 (the table name is ours)
            "WHERE id = %s AND stock >= %s AND is_active "
            "RETURNING price, min_resale_price, max_resale_price",
            [quantity, sku.pk, quantity],
        )
        row = cursor.fetchone()
    if row is None:
        raise Conflict(_("Not enough stock of “%(name)s”.") % {"name": sku}, code="out_of_stock")
    return SkuPricing(sku_id=sku.pk, price=row[0], floor=row[1], ceiling=row[2])


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
