"""What payments does when the orders below it move (``apps.orders.events``).

A cancelled order's checkout is closed, so that money arriving for it later is kept for refund
rather than paying a cancelled order. The pending payments are locked on ``OrderCancelling``,
before the order row, in the order a payment notification takes the two (payment, then order): a
cancel racing a notification then queues behind it instead of deadlocking.
"""

from apps.core import events
from apps.orders.events import OrderCancelled, OrderCancelling

from .services import payment_close_pending, payments_lock_pending


@events.handler(OrderCancelling)
def lock_pending_payments(event: OrderCancelling) -> None:
    payments_lock_pending(order_id=event.order_id)


@events.handler(OrderCancelled)
def close_pending_payments(event: OrderCancelled) -> None:
    payment_close_pending(order_id=event.order_id)
