"""What the live app does when an app below it moves (apps/core/events.py)."""

from apps.core import events
from apps.orders.events import OrderPaid

from .services import purchase_announce


@events.handler(OrderPaid)
def announce_purchase_from_room(event: OrderPaid) -> None:
    """An order placed from a live room was paid: "X just bought …" in the room (on commit)."""
    purchase_announce(order_id=event.order_id)
