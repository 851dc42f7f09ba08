"""Invariants of the ledger, verified from the tables alone (``manage.py ledger_check``).

Each check is one or two aggregate queries and yields a readable line per breach:

- every journal has at least two entries, they sum to zero, and they belong to its merchant;
- every wallet balance equals the sum of its account's entries, and no distributor has entries
  without a wallet;
- per commission record, its frozen legs sum to what refunds left of it (amount − reversed) while
  it is frozen and to zero after, and its available legs sum to that once released (so a reversal
  must reduce the record and post the matching legs, never one without the other);
- every refunded case has exactly one refund journal whose provider leg is plus its amount, and
  no other case has one;
- commission exists only on completed orders and only at levels 1–3;
- every payment that took money has exactly one payment journal whose provider leg is minus its
  amount, and no other payment has one;
- a payment's split (分账) rows: only on a payment that took money, adding up to at least what it
  kept (paid less refunded; more only when a refund came after the split) and never more than it
  took, the shares sent to others (platform, distributors) within ``FENXIAO_SPLIT_MAX_PERCENT`` of
  the split's total, and each distributor's share moved once from available to withdrawn in its
  own journal (``split:<key>``), by exactly its amount; no such journal without its row.
"""

from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from apps.core.money import ZERO, percent_of
from apps.orders.models import Order
from apps.payments.models import Payment, PaymentSplit

from .ledger import DISTRIBUTOR_ACCOUNTS
from .models import CommissionRecord, Journal, LedgerEntry, Wallet

Account = LedgerEntry.Account
MONEY_TAKEN = (Payment.Status.SUCCEEDED, Payment.Status.REFUND_REQUIRED, Payment.Status.REFUNDED)
SPLIT_KEY_PREFIX = "split:"  # apps.payments.splitting posts a distributor's share under it


def ledger_breaches(*, merchant_id: int | None = None) -> list[str]:
    """Every invariant breach found, as one line each (empty when the ledger is sound)."""
    return [
        *_journals_balance(merchant_id),
        *_wallets_match(merchant_id),
        *_records_match(merchant_id),
        *_commission_only_where_due(merchant_id),
        *_payments_posted(merchant_id),
        *_refunds_posted(merchant_id),
        *_splits_within_payment(merchant_id),
        *_split_shares_posted(merchant_id),
    ]


def _scope(merchant_id: int | None, field: str = "merchant_id") -> Q:
    return Q(**{field: merchant_id}) if merchant_id is not None else Q()


def _journals_balance(merchant_id: int | None) -> Iterator[str]:
    journals = (
        Journal.objects.filter(_scope(merchant_id))
        .annotate(
            legs=Count("entries"),
            total=Sum("entries__amount"),
            foreign=Count("entries", filter=~Q(entries__merchant_id=F("merchant_id"))),
        )
        .filter(Q(legs__lt=2) | ~Q(total=ZERO) | Q(foreign__gt=0))
        .values_list("pk", "key", "legs", "total", "foreign")
    )
    for pk, key, legs, total, foreign in journals:
        yield (
            f"journal {pk} ({key}): {legs} entries summing to {total}"
            + (f", {foreign} of another merchant" if foreign else "")
        )
    orphans = LedgerEntry.objects.filter(_scope(merchant_id), journal__isnull=True).count()
    if orphans:
        yield f"{orphans} ledger entries belong to no journal"


def _wallets_match(merchant_id: int | None) -> Iterator[str]:
    sums: dict[tuple[int, str], Decimal] = {
        (distributor_id, account): total
        for distributor_id, account, total in LedgerEntry.objects.filter(
            _scope(merchant_id), distributor__isnull=False
        )
        .values("distributor_id", "account")
        .annotate(total=Sum("amount"))
        .values_list("distributor_id", "account", "total")
    }
    wallets = {
        wallet.distributor_id: wallet for wallet in Wallet.objects.filter(_scope(merchant_id))
    }
    for distributor_id in sorted({distributor_id for distributor_id, _account in sums}):
        if distributor_id not in wallets:
            yield f"distributor {distributor_id} has ledger entries but no wallet"
    for distributor_id, wallet in sorted(wallets.items()):
        for account in sorted(DISTRIBUTOR_ACCOUNTS):
            expected = sums.get((distributor_id, account), ZERO)
            if getattr(wallet, account) != expected:
                yield (
                    f"wallet of distributor {distributor_id}: {account} is "
                    f"{getattr(wallet, account)}, its entries sum to {expected}"
                )


def _records_match(merchant_id: int | None) -> Iterator[str]:
    legs = {
        (record_id, account): total
        for record_id, account, total in LedgerEntry.objects.filter(
            _scope(merchant_id),
            commission__isnull=False,
            account__in=[Account.FROZEN, Account.AVAILABLE],
        )
        .values("commission_id", "account")
        .annotate(total=Sum("amount"))
        .values_list("commission_id", "account", "total")
    }
    records = CommissionRecord.objects.filter(_scope(merchant_id)).values_list(
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


def _commission_only_where_due(merchant_id: int | None) -> Iterator[str]:
    misplaced = (
        CommissionRecord.objects.filter(_scope(merchant_id))
        .filter(~Q(order__status=Order.Status.COMPLETED) | Q(level__gt=3) | Q(level__lt=1))
        .values_list("pk", "level", "order__number", "order__status")
    )
    for pk, level, number, status in misplaced:
        yield f"commission record {pk}: level {level} on order {number} ({status})"


def _payments_posted(merchant_id: int | None) -> Iterator[str]:
    provider_legs: dict[int, list[Decimal]] = {}
    for payment_id, amount in LedgerEntry.objects.filter(
        _scope(merchant_id),
        journal__kind=Journal.Kind.PAYMENT,
        account=Account.PROVIDER,
    ).values_list("journal__payment_id", "amount"):
        provider_legs.setdefault(payment_id, []).append(amount)
    for pk, status, amount in Payment.objects.filter(_scope(merchant_id)).values_list(
        "pk", "status", "amount"
    ):
        posted = provider_legs.pop(pk, [])
        if status in MONEY_TAKEN and posted != [-amount]:
            yield f"payment {pk} ({status}, {amount}): provider legs {posted}"
        elif status not in MONEY_TAKEN and posted:
            yield f"payment {pk} ({status}) took no money but has provider legs {posted}"
    for payment_id, posted in provider_legs.items():
        yield f"payment journal for unknown payment {payment_id}: provider legs {posted}"


def _refunds_posted(merchant_id: int | None) -> Iterator[str]:
    from apps.refunds.models import RefundCase

    provider_legs: dict[str, list[Decimal]] = {}
    for reference, amount in LedgerEntry.objects.filter(
        _scope(merchant_id), journal__kind=Journal.Kind.REFUND, account=Account.PROVIDER
    ).values_list("journal__key", "amount"):
        provider_legs.setdefault(reference, []).append(amount)
    for pk, status, amount in RefundCase.objects.filter(_scope(merchant_id)).values_list(
        "pk", "status", "amount"
    ):
        posted = provider_legs.pop(f"refund:{pk}", [])
        if status == RefundCase.Status.REFUNDED and posted != [amount]:
            yield f"refund case {pk} (refunded, {amount}): provider legs {posted}"
        elif status != RefundCase.Status.REFUNDED and posted:
            yield f"refund case {pk} ({status}) refunded nothing but has provider legs {posted}"
    for key, posted in provider_legs.items():
        yield f"refund journal {key} for no refund case: provider legs {posted}"


def _splits_within_payment(merchant_id: int | None) -> Iterator[str]:
    receivers = PaymentSplit.Receiver
    totals = (
        PaymentSplit.objects.filter(_scope(merchant_id))
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
            _scope(merchant_id),
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


def _split_shares_posted(merchant_id: int | None) -> Iterator[str]:
    posted: dict[str, dict[tuple[str, int | None], Decimal]] = {}
    for key, account, distributor_id, total in (
        LedgerEntry.objects.filter(_scope(merchant_id), journal__key__startswith=SPLIT_KEY_PREFIX)
        .values("journal__key", "account", "distributor_id")
        .annotate(total=Sum("amount"))
        .values_list("journal__key", "account", "distributor_id", "total")
    ):
        legs = posted.setdefault(key.removeprefix(SPLIT_KEY_PREFIX), {})
        legs[(account, distributor_id)] = total
    for pk, key, distributor_id, amount in PaymentSplit.objects.filter(
        _scope(merchant_id), receiver=PaymentSplit.Receiver.DISTRIBUTOR
    ).values_list("pk", "idempotency_key", "distributor_id", "amount"):
        legs = posted.pop(key, {})
        expected = {
            (Account.AVAILABLE, distributor_id): -amount,
            (Account.WITHDRAWN, distributor_id): amount,
        }
        if legs != expected:
            yield (
                f"split {pk} ({key}, {amount} to distributor {distributor_id}): "
                f"legs {_legs_text(legs)}"
            )
    for key, legs in sorted(posted.items()):
        yield f"split journal {SPLIT_KEY_PREFIX}{key} has no split row: legs {_legs_text(legs)}"


def _legs_text(legs: dict[tuple[str, int | None], Decimal]) -> str:
    return (
        "["
        + ", ".join(f"{account} {amount}" for (account, _d), amount in sorted(legs.items()))
        + "]"
    )


def ledger_stats(*, merchant_id: int | None = None) -> dict[str, int]:
    return {
        "journals": Journal.objects.filter(_scope(merchant_id)).count(),
        "entries": LedgerEntry.objects.filter(_scope(merchant_id)).count(),
        "wallets": Wallet.objects.filter(_scope(merchant_id)).count(),
        "records": CommissionRecord.objects.filter(_scope(merchant_id)).count(),
    }
