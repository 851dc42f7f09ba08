"""What refunds does when payments, below it, moves (apps/core/events.py): a provider's refund
notification, received by payments' callback, is verified and applied here."""

from django.db import transaction

from apps.core import events
from apps.payments.events import RefundNotificationReceived, SupersededPaymentArrived

from .services import refund_handle_notification
from .tasks import payment_refund_superseded_task


@events.handler(RefundNotificationReceived)
def apply_refund_notification(event: RefundNotificationReceived) -> None:
    refund_handle_notification(provider=event.provider, body=event.body, headers=event.headers)


@events.handler(SupersededPaymentArrived)
def refund_superseded_payment(event: SupersededPaymentArrived) -> None:
    """The consumer paid a checkout they had replaced by another: give the money back."""
    payment_id = event.payment_id
    transaction.on_commit(lambda: payment_refund_superseded_task.delay(payment_id))
