"""What group buying does when the apps below it move (apps/core/events.py).

- A seat's order paid (``OrderPaid``, in the payment's transaction): the group opens or fills.
- A seat's unpaid order cancelled or expired (``OrderCancelled``): its seat is free again.
- A refund of a seat's order completed (``RefundCompleted``): the member is refunded once nothing
  is left to refund.
"""

from apps.core import events
from apps.orders.events import OrderCancelled, OrderPaid
from apps.refunds.events import RefundCompleted

from .services import group_member_cancelled, group_member_paid, group_member_refunded


@events.handler(OrderPaid)
def open_or_fill_group(event: OrderPaid) -> None:
    group_member_paid(order_id=event.order_id)


@events.handler(OrderCancelled)
def free_seat(event: OrderCancelled) -> None:
    group_member_cancelled(order_id=event.order_id)


@events.handler(RefundCompleted)
def mark_member_refunded(event: RefundCompleted) -> None:
    group_member_refunded(order_id=event.order_id)
