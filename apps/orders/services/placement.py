"""Placing an order: from the cart or for explicit lines ("buy now").

One transaction reserves the stock (a conditional UPDATE per line, SKUs in id order), prices each
line as it is in force under the SKU's row lock through the one pricing pipeline
(``apps.marketing.pricing.price_lines``: member price → promotion → full reduction → coupon →
points), snapshots the customer's upline (levels 1–3) and writes the order, its lines, their price
breakdown and its first history row; then it claims the coupon, the points and the flash-sale
quota, and — as its very last statement — takes flash units from their pools.

A flash-sale line (its SKU in an open flash sale, bought outside a micro-shop) takes no SKU stock:
its units come from the sale's pool, which was taken from the SKU's stock when the sale opened.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import ZERO
from apps.core.personal import phone_index
from apps.distributors.agency import SkuPricing, agency_prices
from apps.distributors.models import (
    CustomerBinding,
    Distributor,
    ProgrammeSettings,
)
from apps.marketing.models import FlashSale
from apps.marketing.pricing import (
    BEST_COUPON,
    LineInput,
    PricedCart,
    on_offer,
    open_flash_sales,
    price_lines,
)
from apps.marketing.services import flash_check_left, pricing_commit
from apps.merchants.models import Merchant
from apps.products.models import Sku
from apps.suppliers.models import Supplier, SupplyProduct, SupplySku

from ..models import (
    RECIPIENT_PHONE,
    Cart,
    CartItem,
    Order,
    OrderLine,
    OrderLineAdjustment,
    OrderStatusChange,
)
from .line_rules import check_on_sale, check_quantity, shop_of


@dataclass(frozen=True)
class SupplySnapshot:
    """A supplied line's supplier and supply price per unit, read as its stock was reserved."""

    supplier_id: int
    unit_price: Decimal


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


@dataclass(frozen=True)
class Discounts:
    """What the customer asked the pricing pipeline for at checkout, and what a channel gives.

    ``coupon``: ``BEST_COUPON`` (the best usable one is proposed and used), ``None`` (none), or a
    coupon grant id. ``points``: points to spend. ``channel_prices`` / ``channel_label``: prices a
    selling channel (a live room while it is live) passes for SKUs, by SKU id; placement hands
    them to the pipeline as they are (its promotion step applies them).
    """

    coupon: object = BEST_COUPON
    points: int = 0
    channel_prices: dict[int, Decimal] | None = None
    channel_label: str = ""


NO_DISCOUNTS = Discounts()


def _new_order_number() -> str:
    return timezone.now().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


def order_place_from_cart(
    *,
    merchant: Merchant,
    customer: User,
    recipient: Recipient,
    note: str = "",
    expected_total: Decimal | None = None,
    discounts: Discounts = NO_DISCOUNTS,
) -> Order:
    """Turn the customer's cart in this store into an order (the cart is emptied).

    Lines are priced as they are in force now (a micro-shop's price moved into the current floor
    and ceiling), then through the pricing pipeline with ``discounts``. ``expected_total``: the
    amount payable the customer was shown; if it changed since, nothing is placed (Conflict
    ``prices_changed``) and the customer reviews the cart.
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
            discounts=discounts,
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
    discounts: Discounts = NO_DISCOUNTS,
    live_room_id: int | None = None,
) -> Order:
    """Place an order for explicit (sku id, quantity) lines ("buy now", and the API).

    ``shop_code``: bought in that distributor's micro-shop (priced as ``order_place_from_cart``).
    ``live_room_id``: the live room the order is placed from, recorded on the order; the caller
    (the live app, which checked the room is live) gives the room's live-only prices in
    ``discounts.channel_prices``, which the pipeline applies (against the floor in force under
    the SKU's row lock).
    """
    if not lines:
        raise DomainError(_("An order needs at least one item."), code="empty_order")
    quantities: dict[int, int] = {}
    for sku_id, quantity in lines:
        quantities[sku_id] = check_quantity(quantities.get(sku_id, 0) + check_quantity(quantity))
    skus = {
        sku.pk: sku
        for sku in Sku.objects.filter(merchant=merchant, pk__in=quantities).select_related(
            "product"
        )
    }
    missing = set(quantities) - set(skus)
    if missing:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    shop = shop_of(merchant=merchant, shop_code=shop_code)
    with transaction.atomic():
        return _order_create(
            merchant=merchant,
            customer=customer,
            lines=[(skus[sku_id], quantities[sku_id]) for sku_id in sorted(quantities)],
            shops=[shop.pk if shop else None] * len(quantities),
            recipient=recipient,
            note=note,
            expected_total=expected_total,
            discounts=discounts,
            live_room_id=live_room_id,
        )


def _upline_sql() -> str:
    distributor = Distributor._meta.db_table
    # Table names are ours; every value is a parameter.
    return f"""
SELECT s.self_purchase_commission, own.id, own.parent_id, own_parent.parent_id,
       b.distributor_id, d1.user_id, d1.parent_id, d2.user_id, d2.parent_id, d3.user_id
FROM (SELECT 1) AS one
LEFT JOIN {ProgrammeSettings._meta.db_table} s ON s.merchant_id = %(merchant)s
LEFT JOIN {distributor} own ON s.self_purchase_commission AND own.merchant_id = %(merchant)s
     AND own.user_id = %(customer)s AND own.status = %(active)s
LEFT JOIN {distributor} own_parent ON own_parent.id = own.parent_id
LEFT JOIN {CustomerBinding._meta.db_table} b ON b.merchant_id = %(merchant)s
     AND b.customer_id = %(customer)s AND (b.expires_at IS NULL OR b.expires_at > %(now)s)
LEFT JOIN {distributor} d1 ON d1.id = b.distributor_id
LEFT JOIN {distributor} d2 ON d2.id = d1.parent_id
LEFT JOIN {distributor} d3 ON d3.id = d2.parent_id
"""  # noqa: S608


_UPLINE_SQL: list[str] = []


def _upline_snapshot(
    *, merchant: Merchant, customer: User, now: datetime
) -> tuple[int | None, ...]:
    """(level 1, level 2, level 3) distributor ids for the customer's order, None where absent.

    With self-purchase commission (自购返佣) on and the buyer an active distributor of the store,
    the buyer's own profile is level 1 and their inviter and its inviter levels 2 and 3.
    Otherwise: the binding in force (an expired one, N days, pays no one) and two parents, and the
    chain stops below the buyer — nobody earns on their own purchase, even if the tree was
    rearranged after the binding. One statement for both (it reads the programme's flag too).
    """
    if not _UPLINE_SQL:
        _UPLINE_SQL.append(_upline_sql())
    with connection.cursor() as cursor:
        cursor.execute(
            _UPLINE_SQL[0],
            {
                "merchant": merchant.pk,
                "customer": customer.pk,
                "active": Distributor.Status.ACTIVE.value,
                "now": now,
            },
        )
        row = cursor.fetchone()
    self_purchase, own_id, own_parent_id, own_grandparent_id = row[0:4]
    if self_purchase and own_id is not None:
        return (own_id, own_parent_id, own_grandparent_id)
    chain: list[int | None] = []
    for distributor_id, user_id in zip(row[4:10:2], row[5:10:2], strict=True):
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
    discounts: Discounts = NO_DISCOUNTS,
    live_room_id: int | None = None,
) -> Order:
    """Reserve stock, price, snapshot the upline, write the order. Caller holds a transaction.

    ``lines`` are sorted by SKU id so concurrent orders take row locks in the same order;
    ``shops`` gives each line's micro-shop distributor id (or None). Prices, floors and ceilings
    are read by the statement that reserves the stock, under the SKU's row lock: a concurrent
    change of a price or a floor is wholly before or wholly after this order.
    """
    if not merchant.is_active:
        raise NotFound(_("This store is not open."))
    recipient = recipient.validate()
    for sku, quantity in lines:
        check_quantity(quantity)
        check_on_sale(sku)
    now = timezone.now()
    # What the store has on offer for these SKUs and this customer (one statement): the pricing
    # steps with nothing to find are skipped without a query.
    offers = on_offer(
        merchant=merchant, customer=customer, sku_ids=[sku.pk for sku, _q in lines], now=now
    )
    # A flash-sale line (a store's own SKU in an open sale, bought outside a micro-shop) takes its
    # units from the sale's pool at the end of the transaction, not from the SKU here.
    flash: dict[int, FlashSale] = (
        open_flash_sales(
            merchant=merchant,
            sku_ids=[
                sku.pk
                for (sku, _quantity), shop in zip(lines, shops, strict=True)
                if not shop and not sku.supply_sku_id
            ],
            now=now,
        )
        if offers.flash
        else {}
    )
    # A flash line its pool (as just read) cannot cover is refused before anything is locked.
    for sku, quantity in lines:
        if sku.pk in flash:
            flash_check_left(sale=flash[sku.pk], quantity=quantity)
    # Locks in one global order, so no two placements wait on each other in a circle: the store's
    # own SKUs by id, then the suppliers' pools (shared by every store) by pool id.
    reserved: dict[int, tuple[SkuPricing, SupplySnapshot | None]] = {}
    for index in sorted(
        range(len(lines)),
        key=lambda i: (
            lines[i][0].supply_sku_id is not None,
            lines[i][0].supply_sku_id or 0,
            lines[i][0].pk,
        ),
    ):
        sku, quantity = lines[index]
        if sku.pk in flash:
            reserved[index] = (SkuPricing.of(sku), None)
        elif sku.supply_sku_id:
            reserved[index] = _reserve_supplied_stock(sku=sku, quantity=quantity)
        else:
            reserved[index] = (_reserve_stock(sku=sku, quantity=quantity), None)
    pricing = [reserved[index][0] for index in range(len(lines))]
    supplies = [reserved[index][1] for index in range(len(lines))]
    # The programme settings are read only when a line is bought in a micro-shop (agency
    # prices); the upline snapshot reads the one flag it needs itself.
    agency = agency_prices(
        merchant=merchant,
        buyer_id=customer.pk,
        requests=list(zip(pricing, shops, strict=True)),
    )
    cart = price_lines(
        merchant=merchant,
        customer=customer,
        lines=[
            LineInput(
                sku_id=sku.pk,
                product_id=sku.product_id,
                quantity=quantity,
                unit_price=quote.unit_price if quote is not None else current.price,
                floor=current.floor,
                agency=quote is not None,
            )
            for (sku, quantity), current, quote in zip(lines, pricing, agency, strict=True)
        ],
        coupon=discounts.coupon,  # type: ignore[arg-type]
        points=discounts.points,
        channel_prices=discounts.channel_prices,
        channel_label=discounts.channel_label,
        flash_sales=flash,
        now=now,
        offers=offers,
    )
    level1_id, level2_id, level3_id = _upline_snapshot(
        merchant=merchant, customer=customer, now=now
    )
    if expected_total is not None and expected_total != cart.payable_amount:
        raise Conflict(
            _(
                "Prices in your cart changed since you saw them (now ¥%(total)s in all). "
                "Please review your cart and check out again."
            )
            % {"total": cart.payable_amount},
            code="prices_changed",
        )
    order = Order.objects.create(
        merchant=merchant,
        number=_new_order_number(),
        customer=customer,
        goods_amount=cart.goods_amount,
        discount_amount=cart.discount_amount,
        shipping_amount=ZERO,
        payable_amount=cart.payable_amount,
        price_channel=cart.channel_label[:64],
        distributor_id=level1_id,
        level2_distributor_id=level2_id,
        level3_distributor_id=level3_id,
        recipient_name=recipient.name,
        recipient_phone=recipient.phone,
        recipient_phone_index=phone_index(recipient.phone, purpose=RECIPIENT_PHONE),
        shipping_address=recipient.address,
        note=note.strip()[:255],
        live_room_id=live_room_id,
        expires_at=now + timedelta(minutes=settings.FENXIAO_UNPAID_ORDER_TTL_MINUTES),
    )
    order_lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                merchant=merchant,
                order=order,
                sku=sku,
                product=sku.product,
                product_name=sku.product.name,
                sku_name=sku.name,
                unit_price=priced.list_unit_price,
                quantity=quantity,
                discount_amount=priced.discount_amount,
                paid_amount=priced.paid_amount,
                flash_sale_id=priced.flash_sale_id,
                agency_distributor_id=quote.distributor_id if quote else None,
                agency_unit_cost=quote.unit_cost if quote else None,
                supplier_id=supply.supplier_id if supply else None,
                supply_unit_price=supply.unit_price if supply else None,
            )
            for (sku, quantity), priced, quote, supply in zip(
                lines, cart.lines, agency, supplies, strict=True
            )
        ]
    )
    _write_breakdown(merchant=merchant, order=order, order_lines=order_lines, cart=cart)
    claims = pricing_commit(
        merchant=merchant,
        customer=customer,
        order_id=order.pk,
        cart=cart,
        flash_sales=flash,
        now=now,
    )
    OrderStatusChange.objects.create(
        merchant=merchant,
        order=order,
        from_status="",
        to_status=Order.Status.PENDING_PAYMENT,
        actor=customer,
    )
    claims.finish()
    return order


def _write_breakdown(
    *, merchant: Merchant, order: Order, order_lines: list[OrderLine], cart: PricedCart
) -> None:
    rows = [
        OrderLineAdjustment(
            merchant=merchant,
            order=order,
            line=line,
            step=adjustment.step.value,
            label=adjustment.label[:120],
            amount=adjustment.amount,
            position=position,
        )
        for line, priced in zip(order_lines, cart.lines, strict=True)
        for position, adjustment in enumerate(priced.adjustments)
        if adjustment.amount > 0
    ]
    if rows:
        OrderLineAdjustment.objects.bulk_create(rows)


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


def _reserve_supplied_stock(*, sku: Sku, quantity: int) -> tuple[SkuPricing, SupplySnapshot]:
    """A picked SKU: take ``quantity`` from the supplier's one pool, shared by every store.

    The same conditional update as a store's own stock, on the pool row, and only while the
    store's price stands at or above its floor and the supplier still sells it; it returns the
    store's prices and the supply price in force at that moment. The floor it returns is the
    SKU's ``price_floor`` (its resale floor or the supplier's floor, the higher): no member price
    or promotion takes a supplied SKU below what the supplier, commission and the fee need.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {SupplySku._meta.db_table} AS pool SET stock = pool.stock - %s
            FROM {Sku._meta.db_table} AS sku, {SupplyProduct._meta.db_table} AS product,
                 {Supplier._meta.db_table} AS supplier
            WHERE sku.id = %s AND pool.id = sku.supply_sku_id AND pool.stock >= %s
              AND product.id = pool.product_id AND supplier.id = pool.supplier_id
              AND sku.is_active AND pool.is_active AND product.is_listed
              AND NOT product.removed_by_platform AND supplier.status = %s
              AND sku.price >= sku.supply_floor AND sku.price >= pool.min_retail_price
            RETURNING sku.price, GREATEST(sku.min_resale_price, sku.supply_floor),
                      sku.max_resale_price, pool.supply_price, pool.supplier_id
            """,  # noqa: S608 (table names are ours)
            [quantity, sku.pk, quantity, Supplier.Status.ACTIVE],
        )
        row = cursor.fetchone()
    if row is None:
        # Only called for a SKU picked from a supplier's pool, so supply_sku_id is set.
        assert sku.supply_sku_id is not None
        left = (
            SupplySku.objects.filter(pk=sku.supply_sku_id).values_list("stock", flat=True).first()
        )
        if left is not None and left < quantity:
            raise Conflict(
                _("Not enough stock of “%(name)s”.") % {"name": sku}, code="out_of_stock"
            )
        raise DomainError(
            _("“%(name)s” is no longer on sale.") % {"name": sku}, code="sku_inactive"
        )
    return (
        SkuPricing(sku_id=sku.pk, price=row[0], floor=row[1], ceiling=row[2], supplied=True),
        SupplySnapshot(supplier_id=row[4], unit_price=row[3]),
    )
