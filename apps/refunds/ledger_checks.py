"""Refunds in the ledger's check (``manage.py ledger_check``): every refunded case has exactly
one refund journal whose provider leg is plus its amount, and no other case has one."""

from collections.abc import Iterator
from decimal import Decimal

from apps.ledger.checks import ledger_check, merchant_scope
from apps.ledger.models import Journal, LedgerEntry

from .models import RefundCase

Account = LedgerEntry.Account


@ledger_check
def _refunds_posted(merchant_id: int | None) -> Iterator[str]:
    provider_legs: dict[str, list[Decimal]] = {}
    for reference, amount in LedgerEntry.objects.filter(
        merchant_scope(merchant_id), journal__kind=Journal.Kind.REFUND, account=Account.PROVIDER
    ).values_list("journal__key", "amount"):
        provider_legs.setdefault(reference, []).append(amount)
    for pk, status, amount in RefundCase.objects.filter(merchant_scope(merchant_id)).values_list(
        "pk", "status", "amount"
    ):
        posted = provider_legs.pop(f"refund:{pk}", [])
        if status == RefundCase.Status.REFUNDED and posted != [amount]:
            yield f"refund case {pk} (refunded, {amount}): provider legs {posted}"
        elif status != RefundCase.Status.REFUNDED and posted:
            yield f"refund case {pk} ({status}) refunded nothing but has provider legs {posted}"
    for key, posted in provider_legs.items():
        yield f"refund journal {key} for no refund case: provider legs {posted}"
