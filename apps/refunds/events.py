"""What refunds tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class RefundCaseChanged(Event):
    """A refund case was opened (``from_status`` empty) or took one step of its state machine;
    published inside the transaction that made the change."""

    merchant_id: int
    case_id: int
    order_id: int
    from_status: str
    to_status: str
