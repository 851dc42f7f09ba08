"""What payments tells the rest of the house (apps/core/events.py)."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class SandboxRefundAccepted(Event):
    """The sandbox provider accepted a refund; like a real provider it notifies the merchant
    afterwards, which the task playing it does once the refunding transaction commits
    (``handlers.deliver_sandbox_refund_notification``). The provider never imports the tasks
    that drive it."""

    merchant_id: int
    idempotency_key: str
    refund_no: str
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class RefundNotificationReceived(Event):
    """A provider's asynchronous refund notification reached payments' callback (its own URL, or
    the trade's callback for a provider that sends both there). Refunds verifies and applies it
    (``apps.refunds.handlers``); a ``DomainError`` it raises is the callback's answer."""

    provider: str
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class PaymentSuperseded(Event):
    """A pending payment was replaced by one through another provider (payment_start); its
    checkout is closed at its provider once the transaction commits
    (``handlers.close_superseded_checkout``)."""

    merchant_id: int
    payment_id: int
    provider: str


@dataclass(frozen=True, kw_only=True)
class SupersededPaymentArrived(Event):
    """Money arrived for a superseded payment (now ``refund_required``). Refunds, above
    payments, gives it back automatically (``apps.refunds.handlers``)."""

    merchant_id: int
    payment_id: int
