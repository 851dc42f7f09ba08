"""The refund's and the clawback's money movements.

Until the double-entry ledger lands, the distributor balances (``Wallet``) move directly; the
``CommissionReversal`` rows are the trail.
"""

from django.db.models import F

from apps.commissions.models import CommissionRecord, CommissionReversal, Wallet
from apps.core.money import ZERO

from .models import RefundCase


def post_refund(*, case: RefundCase, fee_share) -> None:  # type: ignore[no-untyped-def]
    """provider +R, merchant_payable −(R − f), platform_fee −f (with the ledger)."""


def post_clawback(*, reversal: CommissionReversal, record: CommissionRecord) -> None:
    """frozen or available −x, merchant_payable +x."""
    if reversal.amount <= ZERO:
        return
    field = "frozen" if reversal.from_status == CommissionRecord.Status.FROZEN else "available"
    Wallet.objects.filter(distributor_id=record.beneficiary_id).update(
        **{field: F(field) - reversal.amount}
    )
