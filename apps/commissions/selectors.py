from decimal import Decimal

from django.db.models import QuerySet, Sum

from apps.distributors.models import Distributor

from .ledger import DISTRIBUTOR_ACCOUNTS
from .models import CommissionRecord, CommissionReversal, LedgerEntry, Wallet


def wallet_for(*, distributor: Distributor) -> Wallet:
    return Wallet.objects.get(distributor=distributor)


def commission_records_for(*, distributor: Distributor) -> "QuerySet[CommissionRecord]":
    return (
        CommissionRecord.objects.filter(
            merchant_id=distributor.merchant_id, beneficiary=distributor
        )
        .select_related("order", "order_line")
        .order_by("-id")
    )


def ledger_balances(*, distributor: Distributor) -> dict[str, Decimal]:
    """Each balance recomputed from the ledger (what the wallet must always equal)."""
    rows = (
        LedgerEntry.objects.filter(distributor=distributor)
        .values("account")
        .annotate(total=Sum("amount"))
    )
    balances: dict[str, Decimal] = {
        str(account): Decimal("0.00") for account in DISTRIBUTOR_ACCOUNTS
    }
    balances.update({row["account"]: row["total"] for row in rows})
    return balances


def commission_reversed_total(*, distributor: Distributor) -> Decimal:
    """What refunds have taken back from the distributor's commission, in all."""
    total = CommissionReversal.objects.filter(
        merchant_id=distributor.merchant_id, beneficiary=distributor
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")
