"""The one pricing pipeline: what a consumer pays for each line of a cart, and why.

Every checkout path (storefront cart, micro-shop, buy-now, API — all through
``apps.orders.services.placement``) and every page that shows a price before the order (product
page, cart, checkout) calls ``price_lines``. The order stores the result line by line and step by
step (``apps.orders.models.OrderLineAdjustment``), so what was paid, what commission is based on
(``OrderLine.paid_amount``, after every step) and what a refund gives back all come from here.

Steps, in this fixed order, each recording what it took off each line:

1. ``member`` — the member level's discount (percent off the unit price, rounded half-up to the
   cent), never below the SKU's floor (``Sku.price_floor``: its resale floor, or a supplied
   SKU's supplier floor if higher).
2. ``promotion`` — the lowest of: a limited-time price (限时折扣) in its window, the flash-sale
   price (秒杀) while the sale is open and has units, and a selling channel's price given by the
   caller in ``channel_prices`` — a live room's live-only price (直播价), passed by
   ``apps.live.services.live_order_place`` only while the room is live, recorded under
   ``channel_label`` (the order's ``price_channel`` and the breakdown's label, so the order shows
   the live saving). It replaces the unit price only if lower; never below the SKU's floor in force
   (a price below it is raised to the floor). This is the one place a live price is applied: the
   line's base stays the store price.
3. ``full_reduction`` — stepped full reductions (满减/满折) over the lines they count (the
   promotion's products, or the whole store), flash lines excluded; order-level.
4. ``coupon`` — one coupon of the customer's: the best usable one unless the caller names one
   (``coupon=<grant id>``) or none (``coupon=None``); order-level, over the lines its scope covers
   (and, for a coupon that does not stack, only lines no promotion touched).
5. ``points`` — points spent as money off (``points``), within the member's balance and the
   store's cap (a percent of what is still payable); order-level.

Order-level steps are allocated to lines pro rata to what each line still costs, to the cent, the
pieces summing exactly to the step's amount (largest remainder, ties to the earlier line), so no
line ever goes below zero. Agency lines (a distributor's resale price in agency mode, 差价) take no
discount at all: the price is the distributor's, and a discount would come out of their margin.

A supplied SKU (supply chain) is priced like any other: its base is the merchant's own retail
price. ``price_lines`` only reads; ``apps.marketing.services.pricing_commit`` claims the coupon,
the points and the flash units for an order in the placing transaction.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Final

from django.db import connections, router
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import DomainError, NotFound
from apps.core.money import CENT, HUNDRED, ZERO, percent_of, quantize_money
from apps.members.models import Member, MemberLevel, MemberSettings
from apps.members.selectors import member_settings_for
from apps.merchants.models import Merchant
from apps.products.models import Product

from .models import Coupon, CouponGrant, FlashSale, Promotion, PromotionPrice


class Step(StrEnum):
    MEMBER = "member"
    PROMOTION = "promotion"
    FULL_REDUCTION = "full_reduction"
    COUPON = "coupon"
    POINTS = "points"


STEP_ORDER: Final = tuple(Step)


class _Best:
    """The ``coupon`` default: propose the best usable coupon."""

    def __repr__(self) -> str:
        return "BEST_COUPON"


BEST_COUPON: Final = _Best()


@dataclass(frozen=True)
class LineInput:
    """One line to price. ``unit_price`` is the base: the store price, or the agency price."""

    sku_id: int
    product_id: int
    quantity: int
    unit_price: Decimal
    floor: Decimal | None = None
    agency: bool = False


@dataclass(frozen=True)
class Adjustment:
    step: Step
    label: str
    amount: Decimal  # taken off the line (all units), ≥ 0
    source_id: int | None = None  # the promotion, flash sale, coupon grant… that did it


@dataclass
class PricedLine:
    sku_id: int
    product_id: int
    quantity: int
    list_unit_price: Decimal
    unit_price: Decimal  # after the unit-price steps (member, promotion)
    agency: bool
    adjustments: list[Adjustment] = field(default_factory=list)
    flash_sale_id: int | None = None

    @property
    def list_amount(self) -> Decimal:
        return quantize_money(self.list_unit_price * self.quantity)

    @property
    def discount_amount(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), ZERO)

    @property
    def paid_amount(self) -> Decimal:
        return self.list_amount - self.discount_amount

    def off(self, step: Step) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.step == step), ZERO)

    @property
    def promoted(self) -> bool:
        return any(a.step in (Step.PROMOTION, Step.FULL_REDUCTION) for a in self.adjustments)


@dataclass(frozen=True)
class CouponOption:
    grant_id: int
    name: str
    discount: Decimal
    valid_until: datetime


@dataclass
class PricedCart:
    lines: list[PricedLine]
    member_level: str = ""
    coupon_grant_id: int | None = None
    coupon_options: list[CouponOption] = field(default_factory=list)
    points_used: int = 0
    points_balance: int = 0
    points_max: int = 0  # the most points this cart may use (balance and cap)
    channel_label: str = ""  # the channel whose price some line pays ("" when none did)

    @property
    def goods_amount(self) -> Decimal:
        return sum((line.list_amount for line in self.lines), ZERO)

    @property
    def discount_amount(self) -> Decimal:
        return sum((line.discount_amount for line in self.lines), ZERO)

    @property
    def payable_amount(self) -> Decimal:
        return sum((line.paid_amount for line in self.lines), ZERO)

    def savings(self) -> list[tuple[Step, str, Decimal]]:
        """(step, label, amount) summed over lines, in step order: what the cart page lists."""
        totals: dict[tuple[Step, str], Decimal] = {}
        for line in self.lines:
            for adjustment in line.adjustments:
                key = (adjustment.step, adjustment.label)
                totals[key] = totals.get(key, ZERO) + adjustment.amount
        return sorted(
            ((step, label, amount) for (step, label), amount in totals.items() if amount),
            key=lambda row: STEP_ORDER.index(row[0]),
        )


@dataclass(frozen=True)
class OnOffer:
    """What a store has on offer for a cart, read in one statement (``on_offer``).

    Each flag says whether the step's own query can find anything at ``now``; a step whose flag is
    false is skipped without a query. ``member`` (with its level) and ``member_settings`` are the
    customer's membership and the store's member settings, read by the same statement.
    """

    flash: bool = True
    limited: bool = True
    full_reduction: bool = True
    coupons: bool = True
    member: Member | None = None
    member_settings: MemberSettings | None = None


def _on_offer_sql() -> str:
    def table(model) -> str:  # type: ignore[no-untyped-def]
        return model._meta.db_table

    flash, price, promotion = table(FlashSale), table(PromotionPrice), table(Promotion)
    grant, coupon = table(CouponGrant), table(Coupon)
    member, level, settings = table(Member), table(MemberLevel), table(MemberSettings)
    # Table names are ours; every value is a parameter.
    return f"""
SELECT
  EXISTS (SELECT 1 FROM {flash} f WHERE f.merchant_id = %(merchant)s
          AND f.sku_id = ANY(%(skus)s) AND f.starts_at <= %(now)s AND f.ends_at > %(now)s),
  EXISTS (SELECT 1 FROM {price} pp JOIN {promotion} p ON p.id = pp.promotion_id
          WHERE pp.merchant_id = %(merchant)s AND pp.sku_id = ANY(%(skus)s)
          AND p.kind = %(limited)s AND p.is_active AND p.starts_at <= %(now)s
          AND p.ends_at > %(now)s),
  EXISTS (SELECT 1 FROM {promotion} p WHERE p.merchant_id = %(merchant)s
          AND p.kind = %(full_reduction)s AND p.is_active AND p.starts_at <= %(now)s
          AND p.ends_at > %(now)s),
  EXISTS (SELECT 1 FROM {grant} g JOIN {coupon} c ON c.id = g.coupon_id
          WHERE g.merchant_id = %(merchant)s AND g.customer_id = %(customer)s
          AND g.status = %(available)s AND g.valid_from <= %(now)s AND g.valid_until > %(now)s
          AND c.is_active),
  m.id, m.user_id, m.level_id, m.points_balance, l.name, l.discount_percent,
  s.id, s.points_per_yuan_redeemed, s.points_max_percent
FROM (SELECT 1) AS one
LEFT JOIN {member} m ON m.merchant_id = %(merchant)s AND m.user_id = %(customer)s
LEFT JOIN {level} l ON l.id = m.level_id
LEFT JOIN {settings} s ON s.merchant_id = %(merchant)s AND m.id IS NOT NULL
"""  # noqa: S608


_ON_OFFER_SQL: list[str] = []


def on_offer(
    *,
    merchant: Merchant,
    customer: User | None,
    sku_ids: Sequence[int],
    now: datetime,
) -> OnOffer:
    """Which pricing steps can apply to these SKUs for this customer now, and the customer's
    membership: one statement, instead of one query per step (most carts have nothing on offer).

    It reads where the steps' own queries would (the replica on a safe page, the primary inside
    the placing transaction), at the same ``now``.
    """
    if not _ON_OFFER_SQL:
        _ON_OFFER_SQL.append(_on_offer_sql())
    customer_id = customer.pk if customer is not None else None
    alias = router.db_for_read(Member)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            _ON_OFFER_SQL[0],
            {
                "merchant": merchant.pk,
                "customer": customer_id,
                "skus": list(sku_ids),
                "now": now,
                "limited": Promotion.Kind.LIMITED_PRICE.value,
                "full_reduction": Promotion.Kind.FULL_REDUCTION.value,
                "available": CouponGrant.Status.AVAILABLE.value,
            },
        )
        row = cursor.fetchone()
    flash, limited, full_reduction, coupons = row[0:4]
    member_id, user_id, level_id, balance, level_name, level_percent = row[4:10]
    settings_id, per_yuan, max_percent = row[10:13]
    member = member_settings = None
    if member_id is not None:
        member = Member.from_db(
            alias,
            ["id", "merchant_id", "user_id", "level_id", "points_balance"],
            [member_id, merchant.pk, user_id, level_id, balance],
        )
        if level_id is not None:
            member.level = MemberLevel.from_db(
                alias,
                ["id", "merchant_id", "name", "discount_percent"],
                [level_id, merchant.pk, level_name, level_percent],
            )
        if settings_id is not None:
            member_settings = MemberSettings.from_db(
                alias,
                ["id", "merchant_id", "points_per_yuan_redeemed", "points_max_percent"],
                [settings_id, merchant.pk, per_yuan, max_percent],
            )
        else:
            member_settings = MemberSettings(merchant_id=merchant.pk)
    return OnOffer(
        flash=flash,
        limited=limited,
        full_reduction=full_reduction,
        coupons=coupons and customer is not None,
        member=member,
        member_settings=member_settings,
    )


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` pro rata, to the cent, summing exactly (largest remainder).

    ``total`` must not exceed the sum of the weights, so no piece exceeds its weight.
    """
    cents = [int(weight / CENT) for weight in weights]
    whole = sum(cents)
    total_cents = int(quantize_money(total) / CENT)
    if total_cents < 0 or total_cents > whole:
        raise ValueError("the amount to allocate must lie between zero and the weights' sum")
    if whole == 0:
        return [ZERO] * len(weights)
    shares = [divmod(total_cents * weight, whole) for weight in cents]
    pieces = [share for share, _rest in shares]
    leftover = total_cents - sum(pieces)
    by_remainder = sorted(range(len(cents)), key=lambda i: (-shares[i][1], i))
    for index in by_remainder[:leftover]:
        pieces[index] += 1
    return [Decimal(piece) * CENT for piece in pieces]


def _unit_step(line: PricedLine, *, step: Step, unit: Decimal, label: str, source_id=None) -> None:
    if unit >= line.unit_price:
        return
    amount = quantize_money((line.unit_price - unit) * line.quantity)
    line.unit_price = unit
    line.adjustments.append(Adjustment(step, label, amount, source_id))


def _order_step(
    lines: Sequence[PricedLine], *, step: Step, total: Decimal, label: str, source_id=None
) -> None:
    for line, piece in zip(
        lines, allocate(total, [line.paid_amount for line in lines]), strict=True
    ):
        if piece:
            line.adjustments.append(Adjustment(step, label, piece, source_id))


def _not_below_floor(price: Decimal, floor: Decimal | None) -> Decimal:
    return max(price, floor) if floor is not None else price


def price_lines(
    *,
    merchant: Merchant,
    customer: User | None,
    lines: Sequence[LineInput],
    coupon: int | None | _Best = BEST_COUPON,
    points: int = 0,
    channel_prices: Mapping[int, Decimal] | None = None,
    channel_label: str = "",
    flash_sales: Mapping[int, FlashSale] | None = None,
    now: datetime | None = None,
    offers: OnOffer | None = None,
) -> PricedCart:
    """Price ``lines`` for ``customer`` (None: a signed-out visitor) through every step.

    ``coupon``: ``BEST_COUPON`` (default) proposes the best usable one, ``None`` uses none, a grant
    id uses that one (NotFound if it is not the customer's in this store; DomainError if it cannot
    be used now). ``points``: how many points to spend (DomainError above the balance or the cap).
    ``channel_prices``: per SKU id, a price the caller's channel sells at (a live room while it is
    live), a candidate at the promotion step under ``channel_label``. ``flash_sales``: the open flash
    sales by SKU id, if the caller has already read them (placement does, to reserve their pools).
    ``offers``: what ``on_offer`` read for these lines at ``now``, if the caller has (placement
    does); otherwise it is read here. Reads only: one query when nothing is on offer, a handful
    when there is, however many lines.
    """
    now = now or timezone.now()
    priced = [
        PricedLine(
            sku_id=line.sku_id,
            product_id=line.product_id,
            quantity=line.quantity,
            list_unit_price=line.unit_price,
            unit_price=line.unit_price,
            agency=line.agency,
        )
        for line in lines
    ]
    floors = {line.sku_id: line.floor for line in lines}
    cart = PricedCart(lines=priced)
    discountable = [line for line in priced if not line.agency]
    if customer is not None and customer.pk is None:
        customer = None
    if offers is None:
        offers = on_offer(
            merchant=merchant,
            customer=customer,
            sku_ids=[line.sku_id for line in priced],
            now=now,
        )
    member = offers.member

    # 1. member level
    if member is not None and member.level is not None:
        cart.member_level = member.level.name
        percent = member.level.discount_percent
        if percent > 0:
            label = _("%(level)s member price") % {"level": member.level.name}
            for line in discountable:
                unit = quantize_money(line.unit_price * (HUNDRED - percent) / HUNDRED)
                unit = _not_below_floor(unit, floors[line.sku_id])
                _unit_step(
                    line, step=Step.MEMBER, unit=unit, label=label, source_id=member.level_id
                )

    # 2. promotion: limited-time price, flash price, channel price — the lowest wins
    sku_ids = [line.sku_id for line in discountable]
    if flash_sales is None:
        flash_sales = (
            open_flash_sales(merchant=merchant, sku_ids=sku_ids, now=now) if offers.flash else {}
        )
    limited = _limited_prices(merchant=merchant, sku_ids=sku_ids, now=now) if offers.limited else {}
    for line in discountable:
        floor = floors[line.sku_id]
        # (unit price, label, source id, from the channel)
        candidates: list[tuple[Decimal, str, int | None, bool]] = []
        if line.sku_id in limited:
            price, name, promotion_id = limited[line.sku_id]
            candidates.append((_not_below_floor(price, floor), name, promotion_id, False))
        sale = flash_sales.get(line.sku_id)
        if sale is not None:
            line.flash_sale_id = sale.pk
            candidates.append((_not_below_floor(sale.price, floor), sale.name, sale.pk, False))
        if channel_prices and line.sku_id in channel_prices:
            price = channel_prices[line.sku_id]
            if price <= 0 or price != quantize_money(price):
                raise DomainError(_("Invalid channel price."), code="channel_price_invalid")
            channel = channel_label or _("channel price")
            candidates.append((_not_below_floor(price, floor), channel, None, True))
        if candidates:
            unit, label, source_id, from_channel = min(candidates, key=lambda c: c[0])
            if from_channel and unit < line.unit_price:
                cart.channel_label = label
            _unit_step(line, step=Step.PROMOTION, unit=unit, label=label, source_id=source_id)

    # 3. full reduction
    for promotion in _full_reductions(merchant=merchant, now=now) if offers.full_reduction else ():
        products = {product.pk for product in promotion.products.all()}
        counted = [
            line
            for line in discountable
            if line.flash_sale_id is None and (not products or line.product_id in products)
        ]
        subtotal = sum((line.paid_amount for line in counted), ZERO)
        reached = [step for step in promotion.steps.all() if step.threshold <= subtotal]
        if not reached or subtotal <= 0:
            continue
        step = max(reached, key=lambda s: s.threshold)
        off = step.amount_off if step.amount_off else percent_of(subtotal, step.percent_off)
        off = min(off, subtotal)
        if off > 0:
            _order_step(
                counted,
                step=Step.FULL_REDUCTION,
                total=off,
                label=promotion.name,
                source_id=promotion.pk,
            )

    # 4. coupon
    if customer is not None and discountable:
        if offers.coupons or not (coupon is None or isinstance(coupon, _Best)):
            _coupon_step(cart, merchant=merchant, customer=customer, choice=coupon, now=now)
    elif coupon is not None and not isinstance(coupon, _Best):
        raise NotFound(_("No such coupon."), code="unknown_coupon")

    # 5. points
    if member is not None:
        settings = offers.member_settings or member_settings_for(merchant_id=merchant.pk)
        cart.points_balance = member.points_balance
        payable = sum((line.paid_amount for line in discountable), ZERO)
        cap = percent_of(payable, settings.points_max_percent)
        rate = settings.points_per_yuan_redeemed
        cart.points_max = min(member.points_balance, int(cap * rate))
        if points:
            _points_step(cart, discountable, points=points, cap=cap, settings=settings)
    elif points:
        raise DomainError(_("You have no points in this store."), code="points_over_balance")
    return cart


def points_value(points: int, settings: MemberSettings) -> Decimal:
    """What ``points`` are worth at checkout, rounded down to the cent."""
    return quantize_money(
        Decimal(points) / Decimal(settings.points_per_yuan_redeemed), rounding=ROUND_DOWN
    )


def _points_step(
    cart: PricedCart,
    lines: list[PricedLine],
    *,
    points: int,
    cap: Decimal,
    settings: MemberSettings,
) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise DomainError(_("Points must be a whole number."), code="points_invalid")
    if points > cart.points_balance:
        raise DomainError(
            _("You have only %(balance)d points.") % {"balance": cart.points_balance},
            code="points_over_balance",
        )
    value = points_value(points, settings)
    if points > cart.points_max or value > cap:
        raise DomainError(
            _("At most %(points)d points can be used on this order.") % {"points": cart.points_max},
            code="points_over_cap",
        )
    if value <= 0:
        raise DomainError(_("Too few points to take anything off."), code="points_invalid")
    cart.points_used = points
    _order_step(
        lines, step=Step.POINTS, total=value, label=_("%(points)d points") % {"points": points}
    )


def open_flash_sales(
    *, merchant: Merchant, sku_ids: Sequence[int], now: datetime | None = None
) -> dict[int, FlashSale]:
    """The flash sale open now for each SKU that has one (one query). A sale whose pool is empty is
    still open: its SKU is sold only through it until it ends (and then reads 'sold out')."""
    if not sku_ids:
        return {}
    now = now or timezone.now()
    sales = FlashSale.objects.filter(
        merchant=merchant, sku_id__in=sku_ids, starts_at__lte=now, ends_at__gt=now
    ).order_by("sku_id", "starts_at", "id")
    found: dict[int, FlashSale] = {}
    for sale in sales:
        found.setdefault(sale.sku_id, sale)
    return found


def _limited_prices(
    *, merchant: Merchant, sku_ids: Sequence[int], now: datetime
) -> dict[int, tuple[Decimal, str, int]]:
    if not sku_ids:
        return {}
    rows = PromotionPrice.objects.filter(
        merchant=merchant,
        sku_id__in=sku_ids,
        promotion__kind=Promotion.Kind.LIMITED_PRICE,
        promotion__is_active=True,
        promotion__starts_at__lte=now,
        promotion__ends_at__gt=now,
    ).values_list("sku_id", "price", "promotion__name", "promotion_id")
    best: dict[int, tuple[Decimal, str, int]] = {}
    for sku_id, price, name, promotion_id in rows:
        if sku_id not in best or price < best[sku_id][0]:
            best[sku_id] = (price, name, promotion_id)
    return best


def _full_reductions(*, merchant: Merchant, now: datetime) -> list[Promotion]:
    return list(
        Promotion.objects.filter(
            merchant=merchant,
            kind=Promotion.Kind.FULL_REDUCTION,
            is_active=True,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .prefetch_related("steps", "products")
        .order_by("id")
    )


def coupon_discount(
    coupon: Coupon, lines: Sequence[PricedLine], *, product_ids: set[int]
) -> tuple[Decimal, list[PricedLine], str | None]:
    """(discount, lines it covers, reason it cannot be used or None) for these priced lines."""
    covered = [
        line
        for line in lines
        if not line.agency
        and (coupon.stackable or not line.promoted and line.flash_sale_id is None)
        and (
            coupon.scope == Coupon.Scope.STORE
            or (coupon.scope == Coupon.Scope.PRODUCTS and line.product_id in product_ids)
            or (coupon.scope == Coupon.Scope.EXCLUDE and line.product_id not in product_ids)
        )
    ]
    subtotal = sum((line.paid_amount for line in covered), ZERO)
    if not covered or subtotal <= 0:
        return ZERO, [], _("This coupon does not apply to the items in your cart.")
    threshold = ZERO if coupon.kind == Coupon.Kind.NO_THRESHOLD else coupon.threshold
    if subtotal < threshold:
        return (
            ZERO,
            [],
            _("This coupon needs ¥%(threshold)s of eligible items (you have ¥%(subtotal)s).")
            % {"threshold": threshold, "subtotal": subtotal},
        )
    if coupon.kind == Coupon.Kind.PERCENT:
        off = percent_of(subtotal, coupon.percent_off)
        if coupon.max_discount is not None:
            off = min(off, coupon.max_discount)
    else:
        off = coupon.amount_off
    return min(off, subtotal), covered, None


def grant_unusable_reason(grant: CouponGrant, *, now: datetime) -> str | None:
    if grant.status == CouponGrant.Status.USED:
        return _("This coupon has already been used.")
    if grant.status != CouponGrant.Status.AVAILABLE or not grant.coupon.is_active:
        return _("This coupon is no longer valid.")
    if now < grant.valid_from:
        return _("This coupon is not valid yet.")
    if now >= grant.valid_until:
        return _("This coupon has expired.")
    return None


def _scoped_product_ids(coupon: Coupon) -> set[int]:
    """Ids of the products a coupon is limited to, read from the ``scoped_products`` prefetch."""
    # Prefetch(to_attr="scoped_products") sets the attribute at run time; the stubs cannot see it.
    scoped: list[Product] = coupon.scoped_products  # type: ignore[attr-defined]
    return {product.pk for product in scoped}


def _coupon_step(
    cart: PricedCart,
    *,
    merchant: Merchant,
    customer: User,
    choice: int | None | _Best,
    now: datetime,
) -> None:
    grants = (
        CouponGrant.objects.filter(merchant=merchant, customer=customer)
        .select_related("coupon")
        .prefetch_related(Prefetch("coupon__products", to_attr="scoped_products"))
    )
    if isinstance(choice, _Best) or choice is None:
        grants = grants.filter(
            status=CouponGrant.Status.AVAILABLE,
            valid_from__lte=now,
            valid_until__gt=now,
            coupon__is_active=True,
        )
    else:
        if isinstance(choice, bool) or not isinstance(choice, int):
            raise NotFound(_("No such coupon."), code="unknown_coupon")
        grants = grants.filter(Q(pk=choice))
    found = list(grants.order_by("valid_until", "id"))
    options: list[tuple[CouponOption, list[PricedLine], Decimal]] = []
    for grant in found:
        if grant_unusable_reason(grant, now=now) is not None:
            continue
        products = _scoped_product_ids(grant.coupon)
        off, covered, reason = coupon_discount(grant.coupon, cart.lines, product_ids=products)
        if reason is None and off > 0:
            option = CouponOption(grant.pk, grant.coupon.name, off, grant.valid_until)
            options.append((option, covered, off))
    cart.coupon_options = sorted(
        (option for option, _covered, _off in options),
        key=lambda option: (-option.discount, option.valid_until, option.grant_id),
    )
    if choice is None:
        return
    if isinstance(choice, _Best):
        if not cart.coupon_options:
            return
        chosen_id = cart.coupon_options[0].grant_id
    else:
        if not found:
            raise NotFound(_("No such coupon."), code="unknown_coupon")
        grant = found[0]
        reason = grant_unusable_reason(grant, now=now)
        if reason is None:
            products = _scoped_product_ids(grant.coupon)
            _off, _covered, reason = coupon_discount(grant.coupon, cart.lines, product_ids=products)
        if reason is not None:
            raise DomainError(reason, code="coupon_unusable")
        chosen_id = grant.pk
    option, covered, off = next(row for row in options if row[0].grant_id == chosen_id)
    cart.coupon_grant_id = chosen_id
    _order_step(covered, step=Step.COUPON, total=off, label=option.name, source_id=chosen_id)


@dataclass(frozen=True)
class ShownPrice:
    """The unit price a consumer will pay for one SKU before the cart: after the member level and
    the promotion step (limited-time, flash), as checkout would price it. Order-level steps (full
    reduction, coupon, points) depend on the whole cart and show in the cart."""

    sku_id: int
    list_price: Decimal
    price: Decimal
    label: str = ""  # what lowered it last: "金卡 member price", the promotion's or sale's name
    step: Step | None = None
    ends_at: datetime | None = None  # when a limited-time or flash price ends (the countdown)
    flash_sale: FlashSale | None = None  # the open flash sale it is sold through, if any

    @property
    def discounted(self) -> bool:
        return self.price < self.list_price


def shown_prices(
    *,
    merchant: Merchant,
    customer: User | None,
    lines: Sequence[LineInput],
    now: datetime | None = None,
) -> dict[int, ShownPrice]:
    """Per SKU (``lines`` at quantity 1), the price ``customer`` (None: signed out) would pay now,
    through the pipeline's own unit-price steps. One query when nothing is on offer; one more per
    kind on offer (flash sales, limited-time prices and their windows), however many SKUs."""
    now = now or timezone.now()
    if customer is not None and customer.pk is None:
        customer = None
    offers = on_offer(
        merchant=merchant, customer=customer, sku_ids=[line.sku_id for line in lines], now=now
    )
    # Only the unit-price steps: no full reduction or coupon for a single unit on a page.
    offers = replace(offers, full_reduction=False, coupons=False)
    flash = (
        open_flash_sales(
            merchant=merchant, sku_ids=[line.sku_id for line in lines if not line.agency], now=now
        )
        if offers.flash
        else {}
    )
    cart = price_lines(
        merchant=merchant,
        customer=customer,
        lines=lines,
        coupon=None,
        flash_sales=flash,
        now=now,
        offers=offers,
    )

    def by_flash(line: PricedLine, adjustment: Adjustment) -> bool:
        # A promotion's and a flash sale's ids may coincide: the name tells them apart too.
        sale = flash.get(line.sku_id)
        return sale is not None and (adjustment.source_id, adjustment.label) == (sale.pk, sale.name)

    promotion_ids = {
        adjustment.source_id
        for line in cart.lines
        for adjustment in line.adjustments
        if adjustment.step == Step.PROMOTION
        and adjustment.source_id is not None
        and not by_flash(line, adjustment)
    }
    promotion_ends: dict[int, datetime] = (
        dict(Promotion.objects.filter(pk__in=promotion_ids).values_list("id", "ends_at"))
        if promotion_ids
        else {}
    )
    shown: dict[int, ShownPrice] = {}
    for line in cart.lines:
        last = next(
            (a for a in reversed(line.adjustments) if a.step in (Step.MEMBER, Step.PROMOTION)),
            None,
        )
        sale = flash.get(line.sku_id)
        ends_at = None
        if last is not None and last.step == Step.PROMOTION:
            if by_flash(line, last) and sale is not None:
                ends_at = sale.ends_at
            elif last.source_id is not None:
                ends_at = promotion_ends.get(last.source_id)
        shown[line.sku_id] = ShownPrice(
            sku_id=line.sku_id,
            list_price=line.list_unit_price,
            price=line.unit_price,
            label=last.label if last is not None else "",
            step=last.step if last is not None else None,
            ends_at=ends_at,
            flash_sale=sale,
        )
    return shown
