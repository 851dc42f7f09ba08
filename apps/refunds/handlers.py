"""What refunds does when payments, below it, moves (apps/core/events.py): a provider's refund
notification, received by payments' callback, is verified and applied here."""

from apps.core import events
from apps.payments.events import RefundNotificationReceived

from .services import refund_handle_notification


@events.handler(RefundNotificationReceived)
def apply_refund_notification(event: RefundNotificationReceived) -> None:
    refund_handle_notification(provider=event.provider, body=event.body, headers=event.headers)
