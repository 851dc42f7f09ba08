"""What the tests read of the ledger to compare with the wallets."""

from decimal import Decimal

from django.db.models import Sum

from apps.distributors.models import Distributor
from apps.ledger.models import LedgerEntry
from apps.ledger.posting import DISTRIBUTOR_ACCOUNTS


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
