"""Writes of the marketing centre: claiming and issuing coupons, flash-sale pools, and what an
order takes (``pricing_commit``) and gives back (``pricing_release``).

Scarce things are claimed by one conditional statement each, so concurrency can never oversell:
- a coupon batch: ``UPDATE coupon SET issued_count = issued_count + 1 WHERE issued_count <
  total_quantity``, and the per-person limit by an upsert on (coupon, customer) whose update only
  happens while under the limit;
- a coupon grant at checkout: ``UPDATE … SET status = 'used' WHERE status = 'available'``;
- a flash pool: ``UPDATE … SET remaining = remaining - n WHERE remaining >= n`` inside the window,
  run as the *last* statement of the placing transaction, so the sale's hot row is locked only for
  the commit, not for the whole checkout; the per-person limit by a conditional upsert as above.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_get_by_code
from apps.members import services as members
from apps.members.models import Member, MemberLevel, MemberTag
from apps.merchants.models import Merchant
from apps.products.models import Product, Sku
from apps.products.versions import catalogue_changed

from .models import (
    Coupon,
    CouponClaimCount,
    CouponGrant,
    FlashPurchase,
    FlashSale,
    Promotion,
    PromotionPrice,
    PromotionStep,
)
from .pricing import PricedCart

# --- coupons ---------------------------------------------------------------------------------


def _validity(coupon: Coupon, now: datetime) -> tuple[datetime, datetime]:
    if coupon.valid_days:
        return now, now + timedelta(days=coupon.valid_days)
    assert coupon.valid_until is not None
    return coupon.valid_from or now, coupon.valid_until


def _bump_claims(*, coupon: Coupon, customer_id: int) -> bool:
    """Count one more of ``coupon`` for the customer, unless at the per-person limit."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CouponClaimCount._meta.db_table} AS c "  # noqa: S608 (our table)
            "(merchant_id, coupon_id, customer_id, claimed) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (coupon_id, customer_id) DO UPDATE SET claimed = c.claimed + 1 "
            "WHERE c.claimed < %s RETURNING claimed",
            [coupon.merchant_id, coupon.pk, customer_id, coupon.per_person_limit],
        )
        return cursor.fetchone() is not None


def coupon_grant(
    *,
    coupon: Coupon,
    customer: User,
    source: str = CouponGrant.Source.CLAIMED,
    distributor: Distributor | None = None,
    now: datetime | None = None,
) -> CouponGrant:
    """Give one coupon of the batch to the customer (claimed, issued by staff, or through a
    distributor's link). DomainError when the batch is used up, over the per-person limit, or
    the coupon is not on offer now; nothing is written then."""
    now = now or timezone.now()
    if not coupon.is_active or (coupon.valid_until is not None and coupon.valid_until <= now):
        raise DomainError(_("This coupon is no longer on offer."), code="coupon_not_offered")
    with transaction.atomic():
        if not _bump_claims(coupon=coupon, customer_id=customer.pk):
            raise DomainError(
                _("You already have as many of this coupon as one person may."),
                code="coupon_limit_reached",
            )
        if not Coupon.objects.filter(pk=coupon.pk, issued_count__lt=F("total_quantity")).update(
            issued_count=F("issued_count") + 1
        ):
            raise DomainError(_("All of this coupon have been claimed."), code="coupon_sold_out")
        valid_from, valid_until = _validity(coupon, now)
        members.member_get_or_create(merchant=coupon.merchant, user=customer)
        return CouponGrant.objects.create(
            merchant_id=coupon.merchant_id,
            coupon=coupon,
            customer=customer,
            source=source,
            distributor=distributor,
            valid_from=valid_from,
            valid_until=valid_until,
        )


def coupon_get_for_merchant(*, merchant: Merchant, coupon_id: int) -> Coupon:
    coupon = Coupon.objects.filter(merchant=merchant, pk=coupon_id).first()
    if coupon is None:
        raise NotFound(_("No such coupon."), code="unknown_coupon")
    return coupon


def coupon_claim(
    *, merchant: Merchant, customer: User, coupon_id: int, distributor_code: str | None = None
) -> CouponGrant:
    """The consumer claims a coupon in the coupon centre (one ``claimable``), or from a
    distributor's coupon link (``distributor_code``, a coupon the merchant lets distributors share:
    the grant records the distributor). Binding the consumer under the
    store's binding rules is the binding service's (``apps.programme.binding.customer_bind``, which
    stands above marketing): the page or API that serves the link calls both."""
    coupon = coupon_get_for_merchant(merchant=merchant, coupon_id=coupon_id)
    distributor = None
    if distributor_code:
        if not coupon.distributor_shareable:
            raise NotFound(_("No such coupon."), code="unknown_coupon")
        distributor = distributor_get_by_code(merchant=merchant, code=distributor_code)
    elif not coupon.claimable:
        raise NotFound(_("No such coupon."), code="unknown_coupon")
    return coupon_grant(
        coupon=coupon,
        customer=customer,
        source=CouponGrant.Source.DISTRIBUTOR if distributor else CouponGrant.Source.CLAIMED,
        distributor=distributor,
    )


def coupon_issue(
    *,
    coupon: Coupon,
    users: list[User] | None = None,
    tag: MemberTag | None = None,
    level: MemberLevel | None = None,
) -> tuple[int, int]:
    """Staff issue one coupon each to members: a list, a tag or a level. Returns (issued,
    skipped): a member at the per-person limit, or the batch running out, is skipped."""
    targets: list[User] = list(users or [])
    member_rows = Member.objects.filter(merchant_id=coupon.merchant_id).select_related("user")
    if tag is not None:
        targets += [m.user for m in member_rows.filter(tags=tag)]
    if level is not None:
        targets += [m.user for m in member_rows.filter(level=level)]
    issued = skipped = 0
    seen: set[int] = set()
    for user in targets:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        try:
            coupon_grant(coupon=coupon, customer=user, source=CouponGrant.Source.STAFF)
            issued += 1
        except DomainError:
            skipped += 1
    return issued, skipped


# --- promotions and flash sales ---------------------------------------------------------------


def promotion_price_check(*, sku: Sku, price: Decimal) -> None:
    """A limited-time price must not go below the SKU's floor (DomainError ``below_floor``)."""
    floor = sku.price_floor
    if floor is not None and price < floor:
        raise DomainError(
            _("The price is below the item's lowest allowed price (¥%(floor)s).")
            % {"floor": floor},
            code="below_floor",
        )


def flash_sale_check(
    *,
    merchant: Merchant,
    sku: Sku,
    price: Decimal,
    starts_at: datetime,
    ends_at: datetime,
    pool: int,
    per_person_limit: int,
) -> None:
    """Every rule a new flash sale must meet before its pool is taken (DomainError otherwise);
    the admin form runs it to show the error on the form."""
    if sku.merchant_id != merchant.pk:
        raise NotFound(_("This item does not exist."), code="unknown_sku")
    if sku.supply_sku_id is not None:
        # A supplied SKU sells its supplier's shared stock: no pool can be set aside from it.
        raise DomainError(
            _("A supplied item cannot have a flash sale: its stock is the supplier's."),
            code="supplied_sku",
        )
    if ends_at <= starts_at:
        raise DomainError(_("The end must be after the start."), code="invalid_window")
    if pool < 1 or per_person_limit < 1:
        raise DomainError(_("The pool and the limit must be at least 1."), code="invalid_pool")
    floor = sku.price_floor
    if floor is not None and price < floor:
        raise DomainError(_("The flash price is below the item's price floor."), code="below_floor")
    if FlashSale.objects.filter(
        merchant=merchant, sku=sku, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        raise DomainError(
            _("This item already has a flash sale in that window."), code="flash_overlap"
        )


def promotion_save(
    *,
    merchant: Merchant,
    promotion: Promotion | None,
    fields: dict,
    products: list[Product] | None = None,
    prices: list[tuple[Sku, Decimal]] | None = None,
    steps: list[dict] | None = None,
) -> Promotion:
    """Create or change a promotion; ``prices`` (limited-time prices per SKU) and ``steps`` (the
    full reduction's steps), when given, replace the promotion's whole list. Refused (nothing
    written): another store's SKU or product, a price below the SKU's floor, two prices for one
    SKU, two steps at one threshold, a window that ends before it starts."""
    if promotion is not None and promotion.merchant_id != merchant.pk:
        raise NotFound(_("No such promotion."), code="unknown_promotion")
    for sku, price in prices or []:
        if sku.merchant_id != merchant.pk:
            raise NotFound(_("This item does not exist."), code="unknown_sku")
        promotion_price_check(sku=sku, price=price)
    if prices is not None and len({sku.pk for sku, _price in prices}) != len(prices):
        raise DomainError(_("Give each SKU one price."), code="duplicate_price")
    if steps is not None and len({step["threshold"] for step in steps}) != len(steps):
        raise DomainError(_("Give each threshold one step."), code="duplicate_step")
    if any(product.merchant_id != merchant.pk for product in products or []):
        raise NotFound(_("No such product."), code="unknown_product")
    target = promotion or Promotion(merchant=merchant)
    for name, value in fields.items():
        setattr(target, name, value)
    if target.ends_at <= target.starts_at:
        raise DomainError(_("The end must be after the start."), code="invalid_window")
    with transaction.atomic():
        target.save()
        if products is not None:
            target.products.set(products)
        if prices is not None:
            PromotionPrice.objects.filter(promotion=target).delete()
            PromotionPrice.objects.bulk_create(
                PromotionPrice(merchant=merchant, promotion=target, sku=sku, price=price)
                for sku, price in sorted(prices, key=lambda row: row[0].pk)
            )
        if steps is not None:
            PromotionStep.objects.filter(promotion=target).delete()
            PromotionStep.objects.bulk_create(
                PromotionStep(merchant=merchant, promotion=target, **step)
                for step in sorted(steps, key=lambda step: step["threshold"])
            )
        catalogue_changed(merchant_id=merchant.pk)
    return target


def coupon_delete(*, coupon: Coupon) -> None:
    """Delete a coupon batch nobody holds yet (Conflict once any was issued: deactivate it)."""
    with transaction.atomic():
        if not Coupon.objects.filter(pk=coupon.pk, issued_count=0).exists():
            raise Conflict(
                _("Some of this coupon have been issued: deactivate it instead."),
                code="coupon_issued",
            )
        coupon.delete()


def flash_sale_update(
    *, sale: FlashSale, name: str | None = None, price: Decimal | None = None
) -> FlashSale:
    """Rename a flash sale or change its flash price (within the SKU's floor); nothing else moves
    once its pool has left the SKU's stock."""
    if price is not None:
        floor = Sku.objects.get(pk=sale.sku_id).price_floor
        if floor is not None and price < floor:
            raise DomainError(
                _("The flash price is below the item's price floor."), code="below_floor"
            )
        sale.price = price
    if name is not None:
        sale.name = name
    sale.save(update_fields=["name", "price"])
    catalogue_changed(merchant_id=sale.merchant_id)
    return sale


def flash_sale_create(
    *,
    merchant: Merchant,
    sku: Sku,
    name: str,
    price: Decimal,
    starts_at: datetime,
    ends_at: datetime,
    pool: int,
    per_person_limit: int = 1,
) -> FlashSale:
    """Open a flash sale: its pool is taken from the SKU's stock at once (Conflict if short).
    Refused (nothing written) as ``flash_sale_check`` says, e.g. on a supplied SKU."""
    flash_sale_check(
        merchant=merchant,
        sku=sku,
        price=price,
        starts_at=starts_at,
        ends_at=ends_at,
        pool=pool,
        per_person_limit=per_person_limit,
    )
    with transaction.atomic():
        if not Sku.objects.filter(pk=sku.pk, stock__gte=pool).update(stock=F("stock") - pool):
            raise Conflict(_("Not enough stock for the pool."), code="out_of_stock")
        catalogue_changed(merchant_id=merchant.pk)
        return FlashSale.objects.create(
            merchant=merchant,
            sku=sku,
            name=name,
            price=price,
            starts_at=starts_at,
            ends_at=ends_at,
            pool=pool,
            remaining=pool,
            per_person_limit=per_person_limit,
        )


def flash_sales_close(*, now: datetime | None = None) -> int:
    """Give the unsold units of ended flash sales back to their SKUs, once each (beat)."""
    now = now or timezone.now()
    closed = 0
    for sale_id in FlashSale.objects.filter(ends_at__lte=now, returned_at__isnull=True).values_list(
        "id", flat=True
    ):
        with transaction.atomic():
            sale = (
                FlashSale.objects.select_for_update()
                .filter(pk=sale_id, returned_at__isnull=True)
                .first()
            )
            if sale is None:
                continue
            Sku.objects.filter(pk=sale.sku_id).update(stock=F("stock") + sale.remaining)
            FlashSale.objects.filter(pk=sale.pk).update(remaining=0, returned_at=now)
            catalogue_changed(merchant_id=sale.merchant_id)
            closed += 1
    return closed


def _flash_hold_quota(*, sale: FlashSale, customer_id: int, quantity: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FlashPurchase._meta.db_table} AS p "  # noqa: S608 (our table)
            "(merchant_id, flash_sale_id, customer_id, quantity) "
            "SELECT %s, %s, %s, %s WHERE %s <= %s "
            "ON CONFLICT (flash_sale_id, customer_id) DO UPDATE "
            "SET quantity = p.quantity + EXCLUDED.quantity "
            "WHERE p.quantity + EXCLUDED.quantity <= %s RETURNING quantity",
            [
                sale.merchant_id,
                sale.pk,
                customer_id,
                quantity,
                quantity,
                sale.per_person_limit,
                sale.per_person_limit,
            ],
        )
        if cursor.fetchone() is None:
            raise DomainError(
                _("At most %(n)d of “%(name)s” per person in this flash sale.")
                % {"n": sale.per_person_limit, "name": sale.name},
                code="flash_limit_reached",
            )


def _flash_sold_out(sale: FlashSale) -> Conflict:
    return Conflict(_("“%(name)s” is sold out.") % {"name": sale.name}, code="flash_sold_out")


def flash_check_left(*, sale: FlashSale, quantity: int) -> None:
    """Refuse at once (Conflict ``flash_sold_out``) a flash line its pool, as just read in the
    placing transaction, cannot cover: most buyers of a flash sale arrive after it sold out, and
    they are told so before anything is locked or written. Only a shortcut: the pool's
    conditional update at the end of the transaction stays the guard."""
    if sale.remaining < quantity:
        raise _flash_sold_out(sale)


def _flash_take_pool(*, sale: FlashSale, quantity: int, now: datetime) -> None:
    taken = FlashSale.objects.filter(
        pk=sale.pk,
        remaining__gte=quantity,
        starts_at__lte=now,
        ends_at__gt=now,
        returned_at__isnull=True,
    ).update(remaining=F("remaining") - quantity)
    if not taken:
        raise _flash_sold_out(sale)


# --- what an order takes and gives back ------------------------------------------------------


class PricingClaims:
    """What ``pricing_commit`` must still do at the very end of the placing transaction."""

    def __init__(self, takes: list[tuple[FlashSale, int]], now: datetime):
        self._takes = takes
        self._now = now

    def finish(self) -> None:
        """Take the flash units from their pools: last, so the hot rows are held only briefly."""
        for sale, quantity in sorted(self._takes, key=lambda take: take[0].pk):
            _flash_take_pool(sale=sale, quantity=quantity, now=self._now)


def pricing_commit(
    *,
    merchant: Merchant,
    customer: User,
    order_id: int,
    cart: PricedCart,
    flash_sales: dict[int, FlashSale],
    now: datetime | None = None,
) -> PricingClaims:
    """Claim what ``cart`` used for the order being placed (caller's transaction): the coupon
    (Conflict ``coupon_used`` if another checkout took it first), the points, each flash line's
    per-person quota. Call ``finish()`` on the result as the last write of the transaction."""
    now = now or timezone.now()
    if cart.coupon_grant_id is not None:
        used = CouponGrant.objects.filter(
            pk=cart.coupon_grant_id,
            merchant=merchant,
            customer=customer,
            status=CouponGrant.Status.AVAILABLE,
            valid_until__gt=now,
        ).update(status=CouponGrant.Status.USED, order_id=order_id, used_at=now)
        if not used:
            raise Conflict(
                _("This coupon has just been used on another order."), code="coupon_used"
            )
    if cart.points_used:
        member = Member.objects.get(merchant=merchant, user=customer)
        members.points_spend(member=member, points=cart.points_used, order_id=order_id)
    takes: list[tuple[FlashSale, int]] = []
    for line in cart.lines:
        if line.flash_sale_id is not None:
            sale = flash_sales[line.sku_id]
            _flash_hold_quota(sale=sale, customer_id=customer.pk, quantity=line.quantity)
            takes.append((sale, line.quantity))
    return PricingClaims(takes, now)


def pricing_release(
    *,
    merchant_id: int,
    order_id: int,
    customer_id: int,
    flash_lines: list[tuple[int, int]],
    return_coupon: bool = True,
    now: datetime | None = None,
) -> None:
    """Give back what an order took, once (caller's transaction; the order's own state change is
    the guard): its coupon if still valid (``return_coupon``), its points, and its flash units —
    to the pool while the sale is open, else to the SKU's stock. ``flash_lines``: (flash sale id,
    quantity) per line. Called when an unpaid order is cancelled or expires, and when a paid order
    is refunded in full before shipping."""
    now = now or timezone.now()  # the coupon must still be valid now to come back
    if return_coupon:
        CouponGrant.objects.filter(
            merchant_id=merchant_id,
            order_id=order_id,
            status=CouponGrant.Status.USED,
            valid_until__gt=now,
        ).update(status=CouponGrant.Status.AVAILABLE, order=None, used_at=None)
    members.points_return_for_order(merchant_id=merchant_id, order_id=order_id)
    for sale_id, quantity in sorted(flash_lines):
        FlashPurchase.objects.filter(flash_sale_id=sale_id, customer_id=customer_id).update(
            quantity=F("quantity") - quantity
        )
        # Back to the pool until the sale's unsold units have gone back to the SKU (the closing
        # job then returns them with the rest); after that, straight to the SKU.
        back_to_pool = FlashSale.objects.filter(pk=sale_id, returned_at__isnull=True).update(
            remaining=F("remaining") + quantity
        )
        if not back_to_pool:
            sku_id = FlashSale.objects.filter(pk=sale_id).values_list("sku_id", flat=True).get()
            Sku.objects.filter(pk=sku_id).update(stock=F("stock") + quantity)
