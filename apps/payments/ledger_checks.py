"""Payments and their splits (分账) in the ledger's check (``manage.py ledger_check``).

- every payment that took money has exactly one payment journal whose provider leg is minus its
  amount, and no other payment has one;
- a payment's split rows: only on a payment that took money, adding up to at least what it kept
  (paid less refunded; more only when a refund came after the split) and never more than it took,
  the shares sent to others (platform, distributors) within ``FENXIAO_SPLIT_MAX_PERCENT`` of the
  split's total, and each distributor's (or supplier's) share moved once from available to
  withdrawn in its own journal (``split:<key>``), by exactly its amount; no such journal without
  its row.
"""

from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum

from apps.core.money import ZERO, percent_of
from apps.ledger.checks import ledger_check, merchant_scope
from apps.ledger.models import Journal, LedgerEntry
from apps.ledger.posting import SPLIT_KEY_PREFIX

from .models import Payment, PaymentSplit

Account = LedgerEntry.Account
MONEY_TAKEN = (Payment.Status.SUCCEEDED, Payment.Status.REFUND_REQUIRED, Payment.Status.REFUNDED)


@ledger_check
def _payments_posted(merchant_id: int | None) -> Iterator[str]:
    provider_legs: dict[int, list[Decimal]] = {}
    for payment_id, amount in LedgerEntry.objects.filter(
        merchant_scope(merchant_id),
        journal__kind=Journal.Kind.PAYMENT,
        account=Account.PROVIDER,
    ).values_list("journal__payment_id", "amount"):
        provider_legs.setdefault(payment_id, []).append(amount)
    for pk, status, amount in Payment.objects.filter(merchant_scope(merchant_id)).values_list(
        "pk", "status", "amount"
    ):
        posted = provider_legs.pop(pk, [])
        if status in MONEY_TAKEN and posted != [-amount]:
            yield f"payment {pk} ({status}, {amount}): provider legs {posted}"
        elif status not in MONEY_TAKEN and posted:
            yield f"payment {pk} ({status}) took no money but has provider legs {posted}"
    for payment_id, posted in provider_legs.items():
        yield f"payment journal for unknown payment {payment_id}: provider legs {posted}"


@ledger_check
def _splits_within_payment(merchant_id: int | None) -> Iterator[str]:
    receivers = PaymentSplit.Receiver
    totals = (
        PaymentSplit.objects.filter(merchant_scope(merchant_id))
        .values("payment_id")
        .annotate(
            total=Sum("amount"),
            to_others=Sum("amount", filter=~Q(receiver=receivers.MERCHANT), default=ZERO),
        )
        .values_list("payment_id", "payment__status", "payment__amount", "total", "to_others")
        .order_by("payment_id")
    )
    refunded = dict(
        LedgerEntry.objects.filter(
            merchant_scope(merchant_id),
            journal__kind=Journal.Kind.REFUND,
            account=Account.PROVIDER,
        )
        .values("journal__payment_id")
        .annotate(total=Sum("amount"))
        .values_list("journal__payment_id", "total")
    )
    cap = settings.FENXIAO_SPLIT_MAX_PERCENT
    for payment_id, status, amount, total, to_others in totals:
        kept = amount - refunded.get(payment_id, ZERO)
        if status not in MONEY_TAKEN:
            yield f"payment {payment_id} ({status}) took no money but has split rows of {total}"
        elif not kept <= total <= amount:
            yield (
                f"payment {payment_id} ({amount}, {amount - kept} refunded): its split rows add "
                f"up to {total}"
            )
        if to_others > percent_of(total, cap):
            yield (
                f"payment {payment_id}: {to_others} of its {total} split is sent to others, "
                f"above the {cap}% cap"
            )


@ledger_check
def _split_shares_posted(merchant_id: int | None) -> Iterator[str]:
    posted: dict[str, dict[tuple[str, int | None], Decimal]] = {}
    for key, account, distributor_id, supplier_id, total in (
        LedgerEntry.objects.filter(
            merchant_scope(merchant_id), journal__key__startswith=SPLIT_KEY_PREFIX
        )
        .values("journal__key", "account", "distributor_id", "supplier_id")
        .annotate(total=Sum("amount"))
        .values_list("journal__key", "account", "distributor_id", "supplier_id", "total")
    ):
        legs = posted.setdefault(key.removeprefix(SPLIT_KEY_PREFIX), {})
        legs[(account, distributor_id or supplier_id)] = total
    receivers = PaymentSplit.Receiver
    for pk, key, receiver, distributor_id, supplier_id, amount in PaymentSplit.objects.filter(
        merchant_scope(merchant_id), receiver__in=[receivers.DISTRIBUTOR, receivers.SUPPLIER]
    ).values_list("pk", "idempotency_key", "receiver", "distributor_id", "supplier_id", "amount"):
        legs = posted.pop(key, {})
        holder = distributor_id or supplier_id
        prefix = "supplier_" if receiver == receivers.SUPPLIER else ""
        expected = {
            (f"{prefix}{Account.AVAILABLE}", holder): -amount,
            (f"{prefix}{Account.WITHDRAWN}", holder): amount,
        }
        if legs != expected:
            yield (f"split {pk} ({key}, {amount} to {receiver} {holder}): legs {_legs_text(legs)}")
    for key, legs in sorted(posted.items()):
        yield f"split journal {SPLIT_KEY_PREFIX}{key} has no split row: legs {_legs_text(legs)}"


def _legs_text(legs: dict[tuple[str, int | None], Decimal]) -> str:
    return (
        "["
        + ", ".join(f"{account} {amount}" for (account, _d), amount in sorted(legs.items()))
        + "]"
    )
