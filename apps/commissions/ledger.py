"""The double-entry ledger: the one way money moves in Fenxiao.

A movement is a ``Journal`` of legs (``LedgerEntry``) that sum to zero. Amounts are
credit-positive: a positive leg means the ledger owes that account's holder more (a distributor's
frozen balance grows with a positive leg; the provider account, money the payment provider holds
for the merchant, goes negative as consumers pay). The movements used by the services:

=====================  ==================================================================
payment P, fee F       provider −P · merchant_payable +(P − F) · platform_fee +F
commission earned C    merchant_payable −C · frozen(d) +C
released               frozen(d) −C · available(d) +C
refund R, fee share f  provider +R · merchant_payable −(R − f) · platform_fee −f
clawback x             frozen(d) or available(d) −x · merchant_payable +x
withdrawal requested   available(d) −W · withdrawing(d) +W   (returned: the reverse)
withdrawal paid        withdrawing(d) −W · merchant_payable +fee · tax_withheld +tax ·
                       withdrawn(d) +net
=====================  ==================================================================

Each journal has a key, unique per merchant, so a retried task or a repeated notification posts
nothing the second time. Distributor legs update the ``Wallet`` cache in the same transaction.
The database backs this up: entries and journals cannot be updated or deleted, and a deferred
constraint trigger refuses to commit a journal whose legs do not sum to zero.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from apps.core.money import ZERO, quantize_money

from .models import Journal, LedgerEntry, Wallet

Account = LedgerEntry.Account
DISTRIBUTOR_ACCOUNTS = frozenset(
    {Account.FROZEN, Account.AVAILABLE, Account.WITHDRAWING, Account.WITHDRAWN}
)
MERCHANT_ACCOUNTS = frozenset(
    {Account.PROVIDER, Account.MERCHANT_PAYABLE, Account.PLATFORM_FEE, Account.TAX_WITHHELD}
)


@dataclass(frozen=True)
class Leg:
    account: str
    amount: Decimal
    distributor_id: int | None = None
    commission_id: int | None = None


class UnbalancedJournal(ValueError):
    pass


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise UnbalancedJournal("A journal needs at least two legs.")
    for leg in legs:
        if leg.amount != quantize_money(leg.amount):
            raise UnbalancedJournal(f"{leg.amount} is not a whole number of cents.")
        if leg.account in DISTRIBUTOR_ACCOUNTS:
            if leg.distributor_id is None:
                raise UnbalancedJournal(f"The {leg.account} account belongs to a distributor.")
        elif leg.account in MERCHANT_ACCOUNTS:
            if leg.distributor_id is not None:
                raise UnbalancedJournal(f"The {leg.account} account is the merchant's.")
        else:
            raise UnbalancedJournal(f"Unknown account {leg.account!r}.")
    total = sum((leg.amount for leg in legs), ZERO)
    if total != ZERO:
        raise UnbalancedJournal(f"The legs sum to {total}, not zero.")


def ledger_post(
    *,
    merchant_id: int,
    kind: str,
    key: str,
    legs: Sequence[Leg],
    order_id: int | None = None,
    payment_id: int | None = None,
    reference: str = "",
    memo: str = "",
    at: datetime | None = None,
) -> Journal | None:
    """Record one balanced movement, once per (merchant, key), and apply its distributor legs to
    their wallets. Returns the journal, or None when ``key`` was already posted (nothing changes).

    Must run inside the transaction that makes the change the movement records (the caller's
    compare-and-swap), so that both commit or neither does. Legs of amount zero are dropped.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post must run inside the transaction it records.")
    legs = [leg for leg in legs if leg.amount != ZERO]
    _check_legs(legs)
    at = at or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Journal._meta.db_table}
                (merchant_id, kind, key, order_id, payment_id, reference, memo, created_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (merchant_id, key) DO NOTHING
            RETURNING id
            """,
            [merchant_id, kind, key, order_id, payment_id, reference, memo, at],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    journal = Journal(
        pk=row[0],
        merchant_id=merchant_id,
        kind=kind,
        key=key,
        order_id=order_id,
        payment_id=payment_id,
        reference=reference,
        memo=memo,
        created_at=at,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                merchant_id=merchant_id,
                journal_id=journal.pk,
                account=leg.account,
                distributor_id=leg.distributor_id,
                commission_id=leg.commission_id,
                amount=leg.amount,
                created_at=at,
            )
            for leg in legs
        ]
    )
    _apply_to_wallets(merchant_id=merchant_id, legs=legs)
    return journal


def _apply_to_wallets(*, merchant_id: int, legs: Sequence[Leg]) -> None:
    deltas: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for leg in legs:
        if leg.distributor_id is not None:
            deltas[leg.distributor_id][leg.account] += leg.amount
    for distributor_id in sorted(deltas):  # rows locked in id order
        changes = {
            account: F(account) + amount
            for account, amount in deltas[distributor_id].items()
            if amount != ZERO
        }
        wallet = Wallet.objects.filter(distributor_id=distributor_id)
        if changes and wallet.update(**changes):
            continue
        # Every distributor gets a wallet when joining; one that has none yet gets it here (a
        # concurrent creator makes the insert a no-op, the update then finds the row).
        Wallet.objects.bulk_create(
            [Wallet(merchant_id=merchant_id, distributor_id=distributor_id)],
            ignore_conflicts=True,
        )
        if changes:
            wallet.update(**changes)
