"""What payments does when the orders below it move (``apps.orders.events``).

A cancelled order's checkout is closed, so that money arriving for it later is kept for refund
rather than paying a cancelled order. The pending payments are locked on ``OrderCancelling``,
before the order row, in the order a payment notification takes the two (payment, then order): a
cancel racing a notification then queues behind it instead of deadlocking.

And the sandbox provider's refund notification is delivered by its task once the refund commits
(the provider publishes ``SandboxRefundAccepted`` rather than importing the task).
"""

from django.db import transaction

from apps.core import events
from apps.orders.events import OrderCancelled, OrderCancelling

from .events import PaymentSuperseded, SandboxRefundAccepted
from .services import payment_close_pending, payments_lock_pending
from .tasks import payment_close_at_provider_task, sandbox_deliver_refund_notification


@events.handler(OrderCancelling)
def lock_pending_payments(event: OrderCancelling) -> None:
    payments_lock_pending(order_id=event.order_id)


@events.handler(OrderCancelled)
def close_pending_payments(event: OrderCancelled) -> None:
    payment_close_pending(order_id=event.order_id)


@events.handler(SandboxRefundAccepted)
def deliver_sandbox_refund_notification(event: SandboxRefundAccepted) -> None:
    key, refund_no, amount = event.idempotency_key, event.refund_no, str(event.amount)
    transaction.on_commit(lambda: sandbox_deliver_refund_notification.delay(key, refund_no, amount))


@events.handler(PaymentSuperseded)
def close_superseded_checkout(event: PaymentSuperseded) -> None:
    payment_id = event.payment_id
    transaction.on_commit(lambda: payment_close_at_provider_task.delay(payment_id))
