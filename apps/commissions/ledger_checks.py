"""Commission records in the ledger's check (``manage.py ledger_check``).

- per commission record, its frozen legs sum to what refunds left of it (amount − reversed) while
  it is frozen and to zero after, and its available legs sum to that once released (so a reversal
  must reduce the record and post the matching legs, never one without the other);
- commission exists only on completed orders and only at levels 1–3.
"""

from collections.abc import Iterator

from django.db.models import Q, Sum

from apps.core.money import ZERO
from apps.ledger.checks import ledger_check, ledger_count, merchant_scope
from apps.ledger.models import LedgerEntry
from apps.orders.models import Order

from .models import CommissionRecord

Account = LedgerEntry.Account


@ledger_check
def _records_match(merchant_id: int | None) -> Iterator[str]:
    legs = {
        (record_id, account): total
        for record_id, account, total in LedgerEntry.objects.filter(
            merchant_scope(merchant_id),
            commission__isnull=False,
            account__in=[Account.FROZEN, Account.AVAILABLE],
        )
        .values("commission_id", "account")
        .annotate(total=Sum("amount"))
        .values_list("commission_id", "account", "total")
    }
    records = CommissionRecord.objects.filter(merchant_scope(merchant_id)).values_list(
        "pk", "status", "amount", "reversed_amount"
    )
    for pk, status, amount, reversed_amount in records.iterator():
        frozen = legs.get((pk, Account.FROZEN), ZERO)
        available = legs.get((pk, Account.AVAILABLE), ZERO)
        kept = amount - reversed_amount
        expected_frozen = kept if status == CommissionRecord.Status.FROZEN else ZERO
        expected_available = kept if status == CommissionRecord.Status.RELEASED else ZERO
        if frozen != expected_frozen or available != expected_available:
            yield (
                f"commission record {pk} ({status}, {amount}): frozen legs {frozen}, "
                f"available legs {available}"
            )


@ledger_check
def _commission_only_where_due(merchant_id: int | None) -> Iterator[str]:
    misplaced = (
        CommissionRecord.objects.filter(merchant_scope(merchant_id))
        .filter(~Q(order__status=Order.Status.COMPLETED) | Q(level__gt=3) | Q(level__lt=1))
        .values_list("pk", "level", "order__number", "order__status")
    )
    for pk, level, number, status in misplaced:
        yield f"commission record {pk}: level {level} on order {number} ({status})"


ledger_count(
    "commission records",
    lambda merchant_id: CommissionRecord.objects.filter(merchant_scope(merchant_id)),
)
