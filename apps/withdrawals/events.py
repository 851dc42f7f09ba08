"""What withdrawals tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class WithdrawalChanged(Event):
    """A withdrawal was requested (``from_status`` empty) or took one step of its state machine;
    published inside the transaction that made the change."""

    merchant_id: int
    withdrawal_id: int
    distributor_id: int
    from_status: str
    to_status: str
