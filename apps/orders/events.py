"""What orders tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class OrderPaid(Event):
    """pending_payment → paid, published inside the payment's transaction."""

    merchant_id: int
    order_id: int
    customer_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(Event):
    """shipped → completed, published inside the completing transaction.

    ``beneficiary_ids`` are the order's snapshot distributors at levels 1–3 (none for a direct
    sale); ``commission_due`` says whether settlement has work to do (the order's commission status
    was set to pending in the same transaction)."""

    merchant_id: int
    order_id: int
    beneficiary_ids: tuple[int, ...]
    commission_due: bool
