"""What refunds tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class RefundCompleted(Event):
    """A refund case turned refunded (the provider confirmed it), published in that transaction
    with the order row locked, after the refund's own journal: the apps above take back what they
    paid on the refunded lines (commission) in the same transaction."""

    merchant_id: int
    refund_case_id: int
    order_id: int
    order_line_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class RefundStatusChanged(Event):
    """A refund case was opened or moved to ``status`` (requested, approved, rejected, refunding,
    refunded, failed, cancelled), published in that transaction: integrators are told
    (``apps.webhooks``)."""

    merchant_id: int
    refund_case_id: int
    status: str
