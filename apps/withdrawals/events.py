"""What withdrawals tell the rest of the house (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class WithdrawalStatusChanged(Event):
    """A withdrawal was requested or moved to ``status`` (approved — by review, or at once without
    it —, rejected, paying, paid, failed), published in that transaction: an approved one's payout
    starts once it commits (``handlers.pay_out_when_approved``), integrators are told
    (``apps.webhooks``)."""

    merchant_id: int
    withdrawal_id: int
    status: str
