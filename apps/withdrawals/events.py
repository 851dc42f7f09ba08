"""What withdrawals tell the rest of the house (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class WithdrawalApproved(Event):
    """requested → approved (by review, or at once without it), published in that transaction:
    the payout is to start once it commits (``handlers.pay_out_when_approved``)."""

    merchant_id: int
    withdrawal_id: int
