"""TEMPORARY (issue 8, orders branch): the money branch replaces this file with its own handlers.

Keeps today's behaviour while orders no longer imports commissions: an order completing with
commission due enqueues its settlement once the completing transaction commits — exactly what
``order_complete`` did itself before it published ``OrderCompleted``.
"""

from django.db import transaction

from apps.core import events
from apps.orders.events import OrderCompleted

from .tasks import commission_settle_order_task


@events.handler(OrderCompleted)
def settle_when_completed(event: OrderCompleted) -> None:
    if event.commission_due:
        order_id = event.order_id
        transaction.on_commit(lambda: commission_settle_order_task.delay(order_id))
