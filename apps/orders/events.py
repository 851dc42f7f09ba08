"""What orders tell the apps above them (apps/core/events.py).

Orders owns the order state machine; the apps above react to its steps without orders knowing
them. Each event is published inside the transaction that makes the step, so a handler's writes
commit or roll back with it, and anything that must wait for the commit (a Celery task) is deferred
by the handler with ``transaction.on_commit``.
"""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class OrderCancelling(Event):
    """An unpaid order is about to be cancelled: published before the order row is touched.

    Subscribers lock here the rows of theirs that ``OrderCancelled`` will change. The house takes
    those rows before the order's — the order a payment notification takes them in (payment, then
    order) — so a cancel racing a notification queues instead of deadlocking. If the cancel then
    loses the race (the order was paid meanwhile), no ``OrderCancelled`` follows."""

    merchant_id: int
    order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(Event):
    """pending_payment → cancelled (by the customer, staff or expiry), published in the cancelling
    transaction right after the step; the order's stock is given back in the same transaction."""

    merchant_id: int
    order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderPaid(Event):
    """pending_payment → paid, published inside the payment's transaction."""

    merchant_id: int
    order_id: int
    customer_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(Event):
    """shipped → completed, published inside the completing transaction.

    ``beneficiary_ids`` are the order's snapshot distributors, level 1 first (up to three; none
    for a direct sale); ``commission_due`` says whether settlement has work to do (the order's
    commission status was set to pending in the same transaction)."""

    merchant_id: int
    order_id: int
    beneficiary_ids: tuple[int, ...]
    commission_due: bool


@dataclass(frozen=True, kw_only=True)
class OrderShipped(Event):
    """paid → shipped, published inside the shipping transaction."""

    merchant_id: int
    order_id: int
