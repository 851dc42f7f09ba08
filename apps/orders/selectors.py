"""Reads of the orders app."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.core.money import ZERO, quantize_money
from apps.distributors.agency import SkuPricing, agency_prices
from apps.marketing.pricing import (
    BEST_COUPON,
    LineInput,
    PricedCart,
    on_offer,
    open_flash_sales,
    price_lines,
)
from apps.merchants.models import Merchant

from .models import CartItem


def cart_items_price(*, merchant: Merchant, customer: User, items: Sequence[CartItem]) -> list:
    """Set ``unit_price`` (the price in force: a micro-shop's agency price or the store price) and
    ``line_total`` on each item. No query unless an item came from a micro-shop (then three).
    Returns the agency quote per item (None for a plain line)."""
    quotes = agency_prices(
        merchant=merchant,
        buyer_id=customer.pk,
        requests=[(SkuPricing.of(item.sku), item.agency_distributor_id) for item in items],
    )
    for item, quote in zip(items, quotes, strict=True):
        item.unit_price = quote.unit_price if quote else item.sku.price  # type: ignore[attr-defined]
        item.line_total = cart_item_line_total(item)  # type: ignore[attr-defined]
    return quotes


def cart_item_line_total(item: CartItem) -> Decimal:
    """What a cart line costs at its price in force (``cart_items_price``), else the SKU's price."""
    return quantize_money(getattr(item, "unit_price", item.sku.price) * item.quantity)


@dataclass(frozen=True)
class CartSummary:
    """The customer's cart in one store, lines in the order they were added.

    Each item has its SKU and product loaded and ``line_total`` set (``cart_item_line_total``).
    """

    items: list[CartItem]
    quantity: int  # units, over all lines
    total: Decimal  # before discounts
    priced: PricedCart | None = None  # through the pricing pipeline, as checkout would price it

    @property
    def payable(self) -> Decimal:
        return self.priced.payable_amount if self.priced is not None else self.total


def cart_summary(
    *, merchant: Merchant, customer: User, coupon: object = BEST_COUPON, points: int = 0
) -> CartSummary:
    """The cart with its totals and what the pricing pipeline takes off (no cart yet reads as an
    empty cart). ``coupon`` and ``points`` as in ``price_lines``; their DomainErrors propagate."""
    items = list(
        CartItem.objects.filter(merchant=merchant, cart__customer=customer)
        .select_related("sku__product", "agency_distributor")
        .order_by("id")
    )
    quotes = cart_items_price(merchant=merchant, customer=customer, items=items)
    priced = None
    if items:
        now = timezone.now()
        offers = on_offer(
            merchant=merchant, customer=customer, sku_ids=[item.sku_id for item in items], now=now
        )
        flash = (
            open_flash_sales(
                merchant=merchant,
                sku_ids=[item.sku_id for item in items if not item.agency_distributor_id],
                now=now,
            )
            if offers.flash
            else {}
        )
        priced = price_lines(
            merchant=merchant,
            customer=customer,
            lines=[
                LineInput(
                    sku_id=item.sku_id,
                    product_id=item.sku.product_id,
                    quantity=item.quantity,
                    unit_price=item.unit_price,  # type: ignore[attr-defined]
                    floor=item.sku.price_floor,
                    agency=quote is not None,
                )
                for item, quote in zip(items, quotes, strict=True)
            ],
            coupon=coupon,  # type: ignore[arg-type]
            points=points,
            flash_sales=flash,
            now=now,
            offers=offers,
        )
        for item, line in zip(items, priced.lines, strict=True):
            item.priced = line  # type: ignore[attr-defined]
    return CartSummary(
        items=items,
        quantity=sum(item.quantity for item in items),
        total=quantize_money(sum((item.line_total for item in items), ZERO)),  # type: ignore[attr-defined]
        priced=priced,
    )
