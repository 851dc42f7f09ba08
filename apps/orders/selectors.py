"""Reads of the orders app."""

from dataclasses import dataclass
from decimal import Decimal

from apps.accounts.models import User
from apps.core.money import ZERO, quantize_money
from apps.merchants.models import Merchant

from .models import CartItem


def cart_item_line_total(item: CartItem) -> Decimal:
    """What a cart line costs at its SKU's current price."""
    return quantize_money(item.sku.price * item.quantity)


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
        .select_related("sku__product")
        .order_by("id")
    )
    line_totals = [cart_item_line_total(item) for item in items]
    for item, line_total in zip(items, line_totals, strict=True):
        item.line_total = line_total  # type: ignore[attr-defined]
    return CartSummary(
        items=items,
        quantity=sum(item.quantity for item in items),
        total=quantize_money(sum(line_totals, ZERO)),
    )
