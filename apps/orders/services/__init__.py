"""The writes of the orders app, by concept:

- ``cart``: the customer's cart in one store;
- ``placement``: an order placed from the cart or for explicit lines (stock, prices, upline);
- ``transitions``: the order state machine (pay, ship, complete, cancel, the beat jobs), which
  publishes ``apps.orders.events`` for the apps above;
- ``line_rules``: what a line may hold (quantity, a SKU on sale, a micro-shop), shared by the two
  first.

Everything is importable from ``apps.orders.services``, which is what other apps use.
"""

from .cart import cart_add_item, cart_get_or_create, cart_remove_item, cart_set_quantity
from .line_rules import MAX_LINE_QUANTITY
from .placement import Discounts, Recipient, order_place, order_place_from_cart
from .transitions import (
    ORDER_TRANSITIONS,
    order_cancel,
    order_check_not_held,
    order_complete,
    order_confirm_receipt,
    order_get_for_customer,
    order_get_for_merchant,
    order_hold_place,
    order_holds_release,
    order_mark_paid,
    order_ship,
    order_transition,
    orders_auto_complete,
    orders_cancel_expired,
)

__all__ = [
    "Discounts",
    "MAX_LINE_QUANTITY",
    "ORDER_TRANSITIONS",
    "Recipient",
    "cart_add_item",
    "cart_get_or_create",
    "cart_remove_item",
    "cart_set_quantity",
    "order_cancel",
    "order_check_not_held",
    "order_complete",
    "order_confirm_receipt",
    "order_get_for_customer",
    "order_get_for_merchant",
    "order_hold_place",
    "order_holds_release",
    "order_mark_paid",
    "order_place",
    "order_place_from_cart",
    "order_ship",
    "order_transition",
    "orders_auto_complete",
    "orders_cancel_expired",
]
