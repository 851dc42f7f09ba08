"""The refund's and the clawback's movements in the double-entry ledger (credit-positive legs).

- refund R with fee share f: provider +R · merchant_payable −(R − f) · platform_fee −f
  (key ``refund:<case>``: one journal per case, however often its notification arrives);
- clawback x from one record: frozen(d) or available(d) −x · merchant_payable +x
  (key ``commission:<record>:refund:<case>``: one journal per record and refund).
"""

from decimal import Decimal

from apps.commissions.ledger import Leg, ledger_post
from apps.commissions.models import CommissionRecord, CommissionReversal, Journal, LedgerEntry

from .models import RefundCase

Account = LedgerEntry.Account


def post_refund(*, case: RefundCase, fee_share: Decimal) -> None:
    ledger_post(
        merchant_id=case.merchant_id,
        kind=Journal.Kind.REFUND,
        key=f"refund:{case.pk}",
        order_id=case.order_id,
        payment_id=case.payment_id,
        reference=case.idempotency_key,
        legs=[
            Leg(Account.PROVIDER, case.amount),
            Leg(Account.MERCHANT_PAYABLE, -(case.amount - fee_share)),
            Leg(Account.PLATFORM_FEE, -fee_share),
        ],
    )


def post_clawback(*, reversal: CommissionReversal, record: CommissionRecord) -> None:
    account = (
        Account.FROZEN
        if reversal.from_status == CommissionRecord.Status.FROZEN
        else Account.AVAILABLE
    )
    ledger_post(
        merchant_id=record.merchant_id,
        kind=Journal.Kind.COMMISSION_REVERSED,
        key=f"commission:{record.pk}:refund:{reversal.refund_case_id}",
        order_id=record.order_id,
        reference=f"refund:{reversal.refund_case_id}",
        legs=[
            Leg(
                account,
                -reversal.amount,
                distributor_id=record.beneficiary_id,
                commission_id=record.pk,
            ),
            Leg(Account.MERCHANT_PAYABLE, reversal.amount),
        ],
    )
