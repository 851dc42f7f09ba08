"""What commissions does when the apps below it move (apps/core/events.py).

- An order completing with commission due (``OrderCompleted``) is settled by a task enqueued once
  the completing transaction commits.
- A refund completing (``RefundCompleted``) takes commission back on its lines, in the refund's
  transaction (it holds the order's lock, as settlement and release take it).
- A merchant created (``MerchantCreated``) gets its commission plan, in the same transaction.
- Commission released (``CommissionReleased``, its own event: the services never import the
  tasks) tries each order's payment split once the releasing transaction commits.
"""

from django.db import transaction

from apps.core import events
from apps.merchants.events import MerchantCreated
from apps.orders.events import OrderCompleted
from apps.refunds.events import RefundCompleted

from .clawback import commissions_claw_back_lines
from .events import CommissionReleased
from .services import commission_plan_open
from .tasks import commission_settle_order_task, payment_split_order_task


@events.handler(OrderCompleted)
def settle_when_completed(event: OrderCompleted) -> None:
    if event.commission_due:
        order_id = event.order_id
        transaction.on_commit(lambda: commission_settle_order_task.delay(order_id))


@events.handler(RefundCompleted)
def claw_back_when_refunded(event: RefundCompleted) -> None:
    commissions_claw_back_lines(order_line_ids=list(event.order_line_ids))


@events.handler(MerchantCreated)
def open_commission_plan(event: MerchantCreated) -> None:
    commission_plan_open(merchant_id=event.merchant_id)


@events.handler(CommissionReleased)
def split_when_released(event: CommissionReleased) -> None:
    order_ids = event.order_ids

    def enqueue() -> None:
        for order_id in order_ids:
            payment_split_order_task.delay(order_id)

    transaction.on_commit(enqueue)
