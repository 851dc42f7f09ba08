"""Agency mode (差价): tier purchase prices, distributors' resale prices and the price in force.

The rules, in one place (pages, API, cart and order placement all call ``agency_prices``):

- **Purchase price** (the distributor's cost) of a SKU: the price for the distributor's tier, else
  the base purchase price (a ``TierSkuPrice`` without a tier), else none — a SKU without a purchase
  price for that distributor is not sold in agency mode (their micro-shop sells it at the store
  price, as a plain line).
- **Allowed range** of a resale price: from the larger of the SKU's floor and the purchase price, up
  to the SKU's ceiling. A purchase price above the ceiling leaves no range: not sold in agency mode.
- **Resale price** chosen by the distributor (``DistributorPrice``), else the store price.
- **Price in force** = the chosen price moved into the range *as it is now*: a price set before the
  merchant raised the floor is sold at the floor, one above a lowered ceiling at the ceiling. Nobody
  pays below the floor, whatever was stored before. (The store price itself is kept within the
  floor and ceiling by the catalogue services and by database constraints.)
- **Supplied goods** (一件代发, a SKU picked from a supplier's catalogue) are never sold in agency
  mode: the store's own price is bounded below by the supply floor so that commission and the fee
  can never leave the store paying the supplier more than it received, and a distributor's resale
  price above the store price would let percent commission grow past what that floor allows. They
  take no purchase price, and sell in micro-shops as plain lines.
- Agency mode off, a suspended shop owner, or a distributor buying in their own micro-shop without
  self-purchase commission (自购返佣) → a plain line at the store price, no agency snapshot.

Setting a resale price (``distributor_price_set``) refuses anything outside the range with a clear
message; the order placement re-checks at the moment it reserves stock (SKU rows locked).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.core.errors import DomainError, NotFound
from apps.core.money import CENT, NotTwoPlaces, parse_two_places
from apps.merchants.models import Merchant
from apps.products.models import Sku

from .models import Distributor, DistributorPrice, ProgrammeSettings, Tier, TierSkuPrice
from .selectors import programme_settings_for

MAX_PRICE = Decimal("9999999999.99")


@dataclass(frozen=True)
class SkuPricing:
    """A SKU's own price fields, as read (by placement: under the SKU's row lock)."""

    sku_id: int
    price: Decimal
    floor: Decimal | None
    ceiling: Decimal | None
    supplied: bool = False  # picked from a supplier's catalogue: never an agency line

    @classmethod
    def of(cls, sku: Sku) -> "SkuPricing":
        return cls(
            sku.pk,
            sku.price,
            sku.min_resale_price,
            sku.max_resale_price,
            supplied=sku.supply_sku_id is not None,
        )


@dataclass(frozen=True)
class AgencyPrice:
    """An agency line's price: what the consumer pays per unit, the shop owner's cost per unit."""

    distributor_id: int
    unit_price: Decimal
    unit_cost: Decimal

    @property
    def unit_margin(self) -> Decimal:
        return self.unit_price - self.unit_cost


def resale_range(
    *, cost: Decimal, floor: Decimal | None, ceiling: Decimal | None
) -> tuple[Decimal, Decimal | None] | None:
    """(lowest, highest or None) allowed resale price, or None when nothing is allowed."""
    lowest = max(cost, floor or CENT)
    if ceiling is not None and lowest > ceiling:
        return None
    return lowest, ceiling


def price_in_force(
    *, chosen: Decimal, cost: Decimal, floor: Decimal | None, ceiling: Decimal | None
) -> Decimal | None:
    allowed = resale_range(cost=cost, floor=floor, ceiling=ceiling)
    if allowed is None:
        return None
    lowest, highest = allowed
    price = max(chosen, lowest)
    return min(price, highest) if highest is not None else price


def purchase_costs(
    *, merchant_id: int, sku_ids: Sequence[int], tier_ids: set[int | None]
) -> dict[tuple[int | None, int], Decimal]:
    """(tier id or None for the base price, sku id) → purchase price, in one query."""
    if not sku_ids:
        return {}
    tiers = Q(tier__isnull=True)
    named = {tier_id for tier_id in tier_ids if tier_id is not None}
    if named:
        tiers |= Q(tier_id__in=named)
    rows = TierSkuPrice.objects.filter(tiers, merchant_id=merchant_id, sku_id__in=sku_ids)
    return {
        (tier_id, sku_id): price
        for tier_id, sku_id, price in rows.values_list("tier_id", "sku_id", "purchase_price")
    }


def cost_for(
    costs: dict[tuple[int | None, int], Decimal], *, tier_id: int | None, sku_id: int
) -> Decimal | None:
    """The tier's price, else the base price, else None (not sold in agency mode)."""
    if tier_id is not None and (tier_id, sku_id) in costs:
        return costs[(tier_id, sku_id)]
    return costs.get((None, sku_id))


def agency_prices(
    *,
    merchant: Merchant,
    buyer_id: int | None,
    requests: Sequence[tuple[SkuPricing, int | None]],
    programme: ProgrammeSettings | None = None,
) -> list[AgencyPrice | None]:
    """For each (SKU, micro-shop distributor id or None): its agency price, or None for a plain
    line at the store price. At most three queries, however many lines and shops."""
    if not any(shop_id for _sku, shop_id in requests):
        return [None] * len(requests)
    programme = programme or programme_settings_for(merchant=merchant)
    if not programme.agency_enabled:
        return [None] * len(requests)
    shop_ids = {shop_id for _sku, shop_id in requests if shop_id}
    shops = {
        shop.pk: shop
        for shop in Distributor.objects.filter(
            merchant=merchant, pk__in=shop_ids, status=Distributor.Status.ACTIVE
        ).only("id", "tier_id", "user_id")
    }
    if not shops:
        return [None] * len(requests)
    sku_ids = sorted({sku.sku_id for sku, shop_id in requests if shop_id in shops})
    costs = purchase_costs(
        merchant_id=merchant.pk,
        sku_ids=sku_ids,
        tier_ids={shop.tier_id for shop in shops.values()},
    )
    chosen = {
        (distributor_id, sku_id): price
        for distributor_id, sku_id, price in DistributorPrice.objects.filter(
            merchant=merchant, distributor_id__in=list(shops), sku_id__in=sku_ids
        ).values_list("distributor_id", "sku_id", "price")
    }
    prices: list[AgencyPrice | None] = []
    for sku, shop_id in requests:
        shop = shops.get(shop_id) if shop_id else None
        if (
            shop is None
            or sku.supplied
            or (shop.user_id == buyer_id and not programme.self_purchase_commission)
        ):
            prices.append(None)
            continue
        cost = cost_for(costs, tier_id=shop.tier_id, sku_id=sku.sku_id)
        price = (
            None
            if cost is None
            else price_in_force(
                chosen=chosen.get((shop.pk, sku.sku_id), sku.price),
                cost=cost,
                floor=sku.floor,
                ceiling=sku.ceiling,
            )
        )
        prices.append(
            None
            if price is None or cost is None
            else AgencyPrice(distributor_id=shop.pk, unit_price=price, unit_cost=cost)
        )
    return prices


# --- the distributor's micro-shop -------------------------------------------------------------


@dataclass(frozen=True)
class ShopSkuRow:
    """One SKU as its distributor sees it on "my shop" (and as the API returns it)."""

    sku: Sku
    purchase_price: Decimal | None  # None: not sold in agency mode for this distributor
    lowest: Decimal | None
    highest: Decimal | None
    my_price: Decimal | None  # what the distributor set, if anything
    price: Decimal  # the price in force in their micro-shop
    margin: Decimal | None  # per unit

    @property
    def sellable(self) -> bool:
        return self.margin is not None


def shop_sku_rows(*, distributor: Distributor, skus: Sequence[Sku]) -> list[ShopSkuRow]:
    """The distributor's price sheet for ``skus``: two queries."""
    sku_ids = [sku.pk for sku in skus]
    costs = purchase_costs(
        merchant_id=distributor.merchant_id, sku_ids=sku_ids, tier_ids={distributor.tier_id}
    )
    mine = dict(
        DistributorPrice.objects.filter(
            merchant_id=distributor.merchant_id, distributor=distributor, sku_id__in=sku_ids
        ).values_list("sku_id", "price")
    )
    rows = []
    for sku in skus:
        cost = (
            None
            if sku.supply_sku_id is not None
            else cost_for(costs, tier_id=distributor.tier_id, sku_id=sku.pk)
        )
        allowed = (
            resale_range(cost=cost, floor=sku.min_resale_price, ceiling=sku.max_resale_price)
            if cost is not None
            else None
        )
        if cost is None or allowed is None:
            rows.append(ShopSkuRow(sku, cost, None, None, mine.get(sku.pk), sku.price, None))
            continue
        price = price_in_force(
            chosen=mine.get(sku.pk, sku.price),
            cost=cost,
            floor=sku.min_resale_price,
            ceiling=sku.max_resale_price,
        )
        assert price is not None
        rows.append(
            ShopSkuRow(sku, cost, allowed[0], allowed[1], mine.get(sku.pk), price, price - cost)
        )
    return rows


def _clean_price(value: Any, *, what: str) -> Decimal:
    try:
        price = parse_two_places(value)
    except NotTwoPlaces as error:
        raise DomainError(
            _("%(what)s is a decimal amount with at most two decimal places, such as 12.50.")
            % {"what": what},
            code="invalid_price",
        ) from error
    if price <= 0:
        raise DomainError(_("%(what)s must be more than 0.") % {"what": what}, code="invalid_price")
    if price > MAX_PRICE:
        raise DomainError(_("%(what)s is too large.") % {"what": what}, code="invalid_price")
    return price


def _agency_sku(*, merchant_id: int, sku_id: int) -> Sku:
    sku = Sku.objects.filter(merchant_id=merchant_id, pk=sku_id).select_related("product").first()
    if sku is None:
        raise NotFound(_("No SKU with id %(pk)s.") % {"pk": sku_id}, code="unknown_sku")
    return sku


def distributor_price_set(*, distributor: Distributor, sku_id: int, price: Any) -> DistributorPrice:
    """Set the distributor's resale price for a SKU in their micro-shop.

    Refused unless agency mode is on, the distributor is active, the SKU has a purchase price for
    them, and the price is within the floor and ceiling and not below their purchase price.
    """
    merchant = distributor.merchant
    with transaction.atomic():
        # The SKU row is locked so that a concurrent change of its floor or ceiling is seen.
        sku = (
            Sku.objects.select_for_update(of=("self",))
            .filter(merchant=merchant, pk=sku_id)
            .select_related("product")
            .first()
        )
        if sku is None:
            raise NotFound(_("No SKU with id %(pk)s.") % {"pk": sku_id}, code="unknown_sku")
        price = _clean_price(price, what=_("The resale price"))
        if not programme_settings_for(merchant=merchant).agency_enabled:
            raise DomainError(
                _("Agency mode is not enabled in this store."), code="agency_disabled"
            )
        if not distributor.is_active:
            raise DomainError(_("Your distributor account is suspended."), code="suspended")
        row = shop_sku_rows(distributor=distributor, skus=[sku])[0]
        if row.purchase_price is None:
            raise DomainError(
                _("“%(name)s” has no purchase price for you: it is not sold in agency mode.")
                % {"name": sku},
                code="not_for_agency",
            )
        if row.lowest is None:
            raise DomainError(
                _("“%(name)s” cannot be resold: its purchase price is above its ceiling.")
                % {"name": sku},
                code="not_for_agency",
            )
        if price < row.lowest:
            raise DomainError(
                _("The resale price of “%(name)s” must be at least ¥%(lowest)s.")
                % {"name": sku, "lowest": row.lowest},
                code="below_floor",
            )
        if row.highest is not None and price > row.highest:
            raise DomainError(
                _("The resale price of “%(name)s” must be at most ¥%(highest)s.")
                % {"name": sku, "highest": row.highest},
                code="above_ceiling",
            )
        found, _created = DistributorPrice.objects.update_or_create(
            merchant=merchant, distributor=distributor, sku=sku, defaults={"price": price}
        )
    return found


def distributor_price_clear(*, distributor: Distributor, sku_id: int) -> None:
    """Back to the store price (within the range) for this SKU. Clearing twice is harmless."""
    _agency_sku(merchant_id=distributor.merchant_id, sku_id=sku_id)
    DistributorPrice.objects.filter(
        merchant_id=distributor.merchant_id, distributor=distributor, sku_id=sku_id
    ).delete()


# --- the merchant's purchase prices -----------------------------------------------------------


def _tier_of(merchant: Merchant, tier_id: int | None) -> Tier | None:
    if tier_id is None:
        return None
    tier = Tier.objects.filter(merchant=merchant, pk=tier_id).first()
    if tier is None:
        raise NotFound(_("No tier with id %(pk)s.") % {"pk": tier_id}, code="unknown_tier")
    return tier


def _agency_priceable(sku: Sku) -> Sku:
    if sku.supply_sku_id is not None:
        raise DomainError(
            _(
                "“%(name)s” is supplied goods: it sells at the store's price only, so it takes no "
                "agency purchase price."
            )
            % {"name": sku},
            code="supplied_not_for_agency",
        )
    return sku


def _price_taken() -> DomainError:
    return DomainError(
        _("This SKU already has a purchase price for this tier."), code="tier_price_taken"
    )


def tier_price_create(
    *, merchant: Merchant, tier_id: int | None, sku_id: int, purchase_price: Any
) -> TierSkuPrice:
    """A purchase price for a tier (or, without a tier, the base price) and one SKU."""
    price = _clean_price(purchase_price, what=_("The purchase price"))
    tier = _tier_of(merchant, tier_id)
    sku = _agency_priceable(_agency_sku(merchant_id=merchant.pk, sku_id=sku_id))
    try:
        with transaction.atomic():
            return TierSkuPrice.objects.create(
                merchant=merchant, tier=tier, sku=sku, purchase_price=price
            )
    except IntegrityError as error:
        raise _price_taken() from error


def tier_price_update(*, merchant: Merchant, tier_price_id: int, **fields: Any) -> TierSkuPrice:
    """Change ``purchase_price``, ``tier_id`` or ``sku_id`` of one of the merchant's prices.

    Orders already placed keep the purchase price they snapshotted.
    """
    unknown = set(fields) - {"purchase_price", "tier_id", "sku_id"}
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))} here")
    row = TierSkuPrice.objects.filter(merchant=merchant, pk=tier_price_id).first()
    if row is None:
        raise NotFound(
            _("No purchase price with id %(pk)s.") % {"pk": tier_price_id}, code="unknown_price"
        )
    if "purchase_price" in fields:
        row.purchase_price = _clean_price(fields["purchase_price"], what=_("The purchase price"))
    if "tier_id" in fields:
        row.tier = _tier_of(merchant, fields["tier_id"])
    if "sku_id" in fields:
        row.sku = _agency_priceable(_agency_sku(merchant_id=merchant.pk, sku_id=fields["sku_id"]))
    try:
        with transaction.atomic():
            row.save(update_fields=["purchase_price", "tier", "sku"])
    except IntegrityError as error:
        raise _price_taken() from error
    return row


def tier_price_delete(*, merchant: Merchant, tier_price_id: int) -> None:
    deleted, _unused = TierSkuPrice.objects.filter(merchant=merchant, pk=tier_price_id).delete()
    if not deleted:
        raise NotFound(
            _("No purchase price with id %(pk)s.") % {"pk": tier_price_id}, code="unknown_price"
        )


def micro_shop_products(*, merchant: Merchant, shop: Distributor) -> list[Any]:
    """The store's products on sale, each with ``skus_on_sale`` priced for ``shop``'s micro-shop
    (``shop_price`` on each SKU) and ``lowest_price``. Six queries, however many products."""
    from django.db.models import Exists, OuterRef, Prefetch

    from apps.products.models import Product

    on_sale = Sku.objects.filter(merchant=merchant, is_active=True)
    products = list(
        Product.objects.filter(merchant=merchant, is_active=True)
        .filter(Exists(on_sale.filter(product=OuterRef("pk"))))
        .prefetch_related(
            Prefetch("skus", queryset=on_sale.order_by("price", "id"), to_attr="skus_on_sale")
        )
        .order_by("sort_order", "id")
    )
    micro_shop_price(merchant=merchant, shop=shop, products=products)
    return products


def micro_shop_price(*, merchant: Merchant, shop: Distributor, products: Sequence[Any]) -> None:
    """Set ``shop_price`` on each prefetched SKU (``skus_on_sale``) and each product's
    ``lowest_price``: the agency price in force, or the store price (agency off, not for agency).
    Anyone looking (signed out too) sees the prices a customer would pay."""
    skus = [sku for product in products for sku in product.skus_on_sale]
    quotes = agency_prices(
        merchant=merchant, buyer_id=None, requests=[(SkuPricing.of(sku), shop.pk) for sku in skus]
    )
    for sku, quote in zip(skus, quotes, strict=True):
        sku.shop_price = quote.unit_price if quote else sku.price
    for product in products:
        product.lowest_price = min((sku.shop_price for sku in product.skus_on_sale), default=None)
