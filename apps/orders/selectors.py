"""Reads of the orders app."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.accounts.models import User
from apps.core.money import ZERO, quantize_money
from apps.distributors.agency import SkuPricing, agency_prices
from apps.merchants.models import Merchant

from .models import CartItem


def cart_items_price(*, merchant: Merchant, customer: User, items: Sequence[CartItem]) -> None:
    """Set ``unit_price`` (the price in force: a micro-shop's agency price or the store price) and
    ``line_total`` on each item. No query unless an item came from a micro-shop (then three)."""
    quotes = agency_prices(
        merchant=merchant,
        buyer_id=customer.pk,
        requests=[(SkuPricing.of(item.sku), item.agency_distributor_id) for item in items],
    )
    for item, quote in zip(items, quotes, strict=True):
        item.unit_price = quote.unit_price if quote else item.sku.price  # type: ignore[attr-defined]
        item.line_total = cart_item_line_total(item)  # type: ignore[attr-defined]


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
    total: Decimal


def cart_summary(*, merchant: Merchant, customer: User) -> CartSummary:
    """The cart with its totals, in one query (no cart yet reads as an empty cart)."""
    items = list(
        CartItem.objects.filter(merchant=merchant, cart__customer=customer)
        .select_related("sku__product", "agency_distributor")
        .order_by("id")
    )
    cart_items_price(merchant=merchant, customer=customer, items=items)
    return CartSummary(
        items=items,
        quantity=sum(item.quantity for item in items),
        total=quantize_money(sum((item.line_total for item in items), ZERO)),  # type: ignore[attr-defined]
    )
