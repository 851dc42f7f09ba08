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
supply owed S          merchant_payable −S · supplier_frozen(s) +S   (at payment)
supply released        supplier_frozen(s) −S · supplier_available(s) +S
supply taken back y    supplier_frozen(s) or supplier_available(s) −y · merchant_payable +y
supplier withdrawal    the withdrawal movements on the supplier_* accounts
=====================  ==================================================================

Each journal has a key, unique per merchant, so a retried task or a repeated notification posts
nothing the second time. Distributor legs update the ``Wallet`` cache in the same transaction, supplier
legs the ``SupplierWallet`` of (merchant, supplier).
The database backs this up: entries and journals cannot be updated or deleted, and a deferred
constraint trigger refuses to commit a journal whose legs do not sum to zero.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.core.money import ZERO, quantize_money

from .models import Journal, LedgerEntry, SupplierWallet, Wallet
from .wallets import supplier_wallets_open, wallets_open

Account = LedgerEntry.Account
DISTRIBUTOR_ACCOUNTS = frozenset(
    {Account.FROZEN, Account.AVAILABLE, Account.WITHDRAWING, Account.WITHDRAWN}
)
SUPPLIER_ACCOUNTS = frozenset(
    {
        Account.SUPPLIER_FROZEN,
        Account.SUPPLIER_AVAILABLE,
        Account.SUPPLIER_WITHDRAWING,
        Account.SUPPLIER_WITHDRAWN,
    }
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
    supplier_id: int | None = None


class UnbalancedJournal(ValueError):
    pass


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise UnbalancedJournal("A journal needs at least two legs.")
    for leg in legs:
        if leg.amount != quantize_money(leg.amount):
            raise UnbalancedJournal(f"{leg.amount} is not a whole number of cents.")
        if leg.account in DISTRIBUTOR_ACCOUNTS:
            if leg.distributor_id is None or leg.supplier_id is not None:
                raise UnbalancedJournal(f"The {leg.account} account belongs to a distributor.")
        elif leg.account in SUPPLIER_ACCOUNTS:
            if leg.supplier_id is None or leg.distributor_id is not None:
                raise UnbalancedJournal(f"The {leg.account} account belongs to a supplier.")
        elif leg.account in MERCHANT_ACCOUNTS:
            if leg.distributor_id is not None or leg.supplier_id is not None:
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
    return ledger_post_many(
        [
            Posting(
                merchant_id=merchant_id,
                kind=kind,
                key=key,
                legs=legs,
                order_id=order_id,
                payment_id=payment_id,
                reference=reference,
                memo=memo,
                at=at,
            )
        ]
    )[0]


@dataclass(frozen=True)
class Posting:
    """One movement for ``ledger_post_many``: the arguments ``ledger_post`` takes."""

    merchant_id: int
    kind: str
    key: str
    legs: Sequence[Leg]
    order_id: int | None = None
    payment_id: int | None = None
    reference: str = ""
    memo: str = ""
    at: datetime | None = None


WALLET_COLUMNS = ("frozen", "available", "withdrawing", "withdrawn")


def ledger_post_many(postings: Sequence[Posting]) -> list[Journal | None]:
    """``ledger_post`` for many movements at once, with every guarantee of it: each journal's legs
    balance (checked before anything is written), each (merchant, key) is posted once — a key
    already posted gives None and changes nothing — and the wallets of the posted journals change
    in the same transaction, locked in distributor-id order. A fixed number of statements however
    many postings: one insert of the journals, one of the entries, three for the wallets.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post must run inside the transaction it records.")
    cleaned: list[tuple[Posting, list[Leg], datetime]] = []
    now = timezone.now()
    for posting in postings:
        legs = [leg for leg in posting.legs if leg.amount != ZERO]
        _check_legs(legs)
        cleaned.append((posting, legs, posting.at or now))
    keys = [(posting.merchant_id, posting.key) for posting, _legs, _at in cleaned]
    if len(set(keys)) != len(keys):
        raise ValueError("The same journal key twice in one call.")
    if not cleaned:
        return []
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(cleaned))
    params: list[Any] = []
    for posting, _legs, at in cleaned:
        params += [
            posting.merchant_id,
            posting.kind,
            posting.key,
            posting.order_id,
            posting.payment_id,
            posting.reference,
            posting.memo,
            at,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Journal._meta.db_table}
                (merchant_id, kind, key, order_id, payment_id, reference, memo, created_at)
            VALUES {values}
            ON CONFLICT (merchant_id, key) DO NOTHING
            RETURNING id, merchant_id, key
            """,
            params,
        )
        posted = {(merchant_id, key): pk for pk, merchant_id, key in cursor.fetchall()}
    journals: list[Journal | None] = []
    entries: list[LedgerEntry] = []
    wallet_legs: list[tuple[int, Leg]] = []
    supplier_legs: list[tuple[int, Leg]] = []
    for posting, legs, at in cleaned:
        pk = posted.get((posting.merchant_id, posting.key))
        if pk is None:
            journals.append(None)
            continue
        journals.append(
            Journal(
                pk=pk,
                merchant_id=posting.merchant_id,
                kind=posting.kind,
                key=posting.key,
                order_id=posting.order_id,
                payment_id=posting.payment_id,
                reference=posting.reference,
                memo=posting.memo,
                created_at=at,
            )
        )
        for leg in legs:
            entries.append(
                LedgerEntry(
                    merchant_id=posting.merchant_id,
                    journal_id=pk,
                    account=leg.account,
                    distributor_id=leg.distributor_id,
                    commission_id=leg.commission_id,
                    supplier_id=leg.supplier_id,
                    amount=leg.amount,
                    created_at=at,
                )
            )
            if leg.distributor_id is not None:
                wallet_legs.append((posting.merchant_id, leg))
            elif leg.supplier_id is not None:
                supplier_legs.append((posting.merchant_id, leg))
    LedgerEntry.objects.bulk_create(entries)
    _apply_to_wallets_at_once(wallet_legs)
    _apply_to_supplier_wallets(supplier_legs)
    return journals


def _apply_to_wallets_at_once(wallet_legs: Sequence[tuple[int, Leg]]) -> None:
    """Add the legs to their wallets: missing wallets created, every row locked in distributor-id
    order, then one ``UPDATE … FROM (VALUES …)``."""
    deltas: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    merchants: dict[int, int] = {}
    for merchant_id, leg in wallet_legs:
        assert leg.distributor_id is not None
        deltas[leg.distributor_id][leg.account] += leg.amount
        merchants[leg.distributor_id] = merchant_id
    distributor_ids = sorted(deltas)
    if not distributor_ids:
        return
    # Every distributor gets a wallet when joining; one that has none yet gets it here.
    by_merchant: dict[int, list[int]] = defaultdict(list)
    for distributor_id in distributor_ids:
        by_merchant[merchants[distributor_id]].append(distributor_id)
    for merchant_id, ids in sorted(by_merchant.items()):
        wallets_open(merchant_id=merchant_id, distributor_ids=ids)
    table = Wallet._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE distributor_id = ANY(%s)"
            " ORDER BY distributor_id FOR UPDATE",
            [distributor_ids],
        )
        changed = [pk for pk in distributor_ids if any(v != ZERO for v in deltas[pk].values())]
        if not changed:
            return
        rows = ", ".join(
            ["(%s::bigint, %s::numeric, %s::numeric, %s::numeric, %s::numeric)"] * len(changed)
        )
        params: list[Any] = []
        for pk in changed:
            params += [pk, *(deltas[pk][column] for column in WALLET_COLUMNS)]
        assignments = ", ".join(f"{column} = w.{column} + v.{column}" for column in WALLET_COLUMNS)
        cursor.execute(
            f"""
            UPDATE {table} AS w SET {assignments}
            FROM (VALUES {rows}) AS v(distributor_id, {", ".join(WALLET_COLUMNS)})
            WHERE w.distributor_id = v.distributor_id
            """,
            params,
        )


SUPPLIER_COLUMNS: dict[str, str] = {
    Account.SUPPLIER_FROZEN: "frozen",
    Account.SUPPLIER_AVAILABLE: "available",
    Account.SUPPLIER_WITHDRAWING: "withdrawing",
    Account.SUPPLIER_WITHDRAWN: "withdrawn",
}


def _apply_to_supplier_wallets(supplier_legs: Sequence[tuple[int, Leg]]) -> None:
    """Add the legs to the (merchant, supplier) wallets: missing ones opened, the rows locked in
    (merchant, supplier) order, then one update per wallet (a sale has a supplier or two)."""
    deltas: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(lambda: ZERO)
    )
    for merchant_id, leg in supplier_legs:
        assert leg.supplier_id is not None
        deltas[(merchant_id, leg.supplier_id)][SUPPLIER_COLUMNS[leg.account]] += leg.amount
    if not deltas:
        return
    keys = sorted(deltas)
    by_merchant: dict[int, list[int]] = defaultdict(list)
    for merchant_id, supplier_id in keys:
        by_merchant[merchant_id].append(supplier_id)
    for merchant_id, supplier_ids in sorted(by_merchant.items()):
        supplier_wallets_open(merchant_id=merchant_id, supplier_ids=supplier_ids)
    table = SupplierWallet._meta.db_table
    with connection.cursor() as cursor:
        for merchant_id, supplier_id in keys:
            cursor.execute(
                f"SELECT id FROM {table} WHERE merchant_id = %s AND supplier_id = %s FOR UPDATE",
                [merchant_id, supplier_id],
            )
        for merchant_id, supplier_id in keys:
            delta = deltas[(merchant_id, supplier_id)]
            if all(value == ZERO for value in delta.values()):
                continue
            assignments = ", ".join(f"{column} = {column} + %s" for column in WALLET_COLUMNS)
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE merchant_id = %s AND supplier_id = %s",
                [*(delta[column] for column in WALLET_COLUMNS), merchant_id, supplier_id],
            )


# --- One named posting per kind of movement ---------------------------------------------------
# The services call these, never ``ledger_post`` with hand-built legs: the legs of each movement
# (the table at the top of this module) are written here once.

SPLIT_KEY_PREFIX = "split:"
SPLIT_MEMO = "payment split"  # the memo of a split payout's journal (finance labels it so)


def ledger_post_payment(
    *,
    merchant_id: int,
    payment_id: int,
    order_id: int,
    amount: Decimal,
    fee: Decimal,
    reference: str,
    memo: str = "",
) -> Journal | None:
    """A payment of ``amount`` arrived at the provider; the platform keeps ``fee`` of it."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.PAYMENT,
        key=f"payment:{payment_id}",
        order_id=order_id,
        payment_id=payment_id,
        reference=reference,
        memo=memo,
        legs=[
            Leg(Account.PROVIDER, -amount),
            Leg(Account.MERCHANT_PAYABLE, amount - fee),
            Leg(Account.PLATFORM_FEE, fee),
        ],
    )


def ledger_post_refund(
    *,
    merchant_id: int,
    refund_case_id: int,
    order_id: int,
    payment_id: int,
    amount: Decimal,
    fee_share: Decimal,
    reference: str,
    memo: str = "",
) -> Journal | None:
    """A refund of ``amount`` left the provider; the platform gives back ``fee_share`` of its fee.
    Key ``refund:<case>``: one journal per case, however often its notification arrives. ``memo``
    says who bears a refund of supplied goods (``SUPPLY_BORNE_BY_*``)."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.REFUND,
        key=f"refund:{refund_case_id}",
        order_id=order_id,
        payment_id=payment_id,
        reference=reference,
        memo=memo,
        legs=[
            Leg(Account.PROVIDER, amount),
            Leg(Account.MERCHANT_PAYABLE, -(amount - fee_share)),
            Leg(Account.PLATFORM_FEE, -fee_share),
        ],
    )


@dataclass(frozen=True)
class CommissionEarned:
    """One commission record just written: who earns ``amount`` frozen, on which record."""

    commission_id: int
    distributor_id: int
    amount: Decimal


def commission_earned_posting(
    *, merchant_id: int, order_id: int, earned: Sequence[CommissionEarned]
) -> Posting:
    """The journal of an order's settlement: the merchant owes each beneficiary, frozen."""
    return Posting(
        merchant_id=merchant_id,
        kind=Journal.Kind.COMMISSION_EARNED,
        key=f"order:{order_id}:commission",
        order_id=order_id,
        legs=[
            Leg(Account.MERCHANT_PAYABLE, -sum((item.amount for item in earned), ZERO)),
            *(
                Leg(
                    Account.FROZEN,
                    item.amount,
                    distributor_id=item.distributor_id,
                    commission_id=item.commission_id,
                )
                for item in earned
            ),
        ],
    )


def ledger_post_commissions_earned(postings: Sequence[Posting]) -> list[Journal | None]:
    """Settlement of many orders in one go: ``commission_earned_posting`` of each."""
    if any(posting.kind != Journal.Kind.COMMISSION_EARNED for posting in postings):
        raise ValueError("Only commission_earned postings here.")
    return ledger_post_many(postings)


def ledger_post_commission_released(
    *,
    merchant_id: int,
    commission_id: int,
    distributor_id: int,
    order_id: int,
    amount: Decimal,
    at: datetime | None = None,
) -> Journal | None:
    """A record's frozen ``amount`` becomes available (once per record)."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.COMMISSION_RELEASED,
        key=f"commission:{commission_id}:released",
        order_id=order_id,
        at=at,
        legs=[
            Leg(
                Account.FROZEN, -amount, distributor_id=distributor_id, commission_id=commission_id
            ),
            Leg(
                Account.AVAILABLE,
                amount,
                distributor_id=distributor_id,
                commission_id=commission_id,
            ),
        ],
    )


def ledger_post_commission_reversed(
    *,
    merchant_id: int,
    commission_id: int,
    distributor_id: int,
    order_id: int,
    refund_case_id: int,
    amount: Decimal,
    from_frozen: bool,
) -> Journal | None:
    """A refund takes ``amount`` of a record back, from the frozen balance or the available one
    (even below zero). Key ``commission:<record>:refund:<case>``: once per record and refund."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.COMMISSION_REVERSED,
        key=f"commission:{commission_id}:refund:{refund_case_id}",
        order_id=order_id,
        reference=f"refund:{refund_case_id}",
        legs=[
            Leg(
                Account.FROZEN if from_frozen else Account.AVAILABLE,
                -amount,
                distributor_id=distributor_id,
                commission_id=commission_id,
            ),
            Leg(Account.MERCHANT_PAYABLE, amount),
        ],
    )


@dataclass(frozen=True)
class Holder:
    """Whose balance a withdrawal moves: a distributor's or a supplier's (exactly one)."""

    distributor_id: int | None = None
    supplier_id: int | None = None

    def leg(self, account: str, amount: Decimal) -> Leg:
        """A leg on this holder's ``account`` (named as the distributor's: ``available``…)."""
        if self.supplier_id is not None:
            return Leg(f"supplier_{account}", amount, supplier_id=self.supplier_id)
        return Leg(account, amount, distributor_id=self.distributor_id)


def _holder(distributor_id: int | None, supplier_id: int | None) -> Holder:
    if (distributor_id is None) == (supplier_id is None):
        raise UnbalancedJournal("A withdrawal moves a distributor's or a supplier's balance.")
    return Holder(distributor_id=distributor_id, supplier_id=supplier_id)


def ledger_post_withdrawal_requested(
    *,
    merchant_id: int,
    withdrawal_id: int,
    distributor_id: int | None,
    amount: Decimal,
    reference: str,
    supplier_id: int | None = None,
) -> Journal | None:
    """``amount`` leaves the available balance for the withdrawal (under the wallet's lock)."""
    holder = _holder(distributor_id, supplier_id)
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.WITHDRAWAL_REQUESTED,
        key=f"withdrawal:{withdrawal_id}:requested",
        legs=[
            holder.leg(Account.AVAILABLE, -amount),
            holder.leg(Account.WITHDRAWING, amount),
        ],
        reference=reference,
        memo=f"withdrawal {withdrawal_id} requested",
    )


def ledger_post_withdrawal_returned(
    *,
    merchant_id: int,
    withdrawal_id: int,
    distributor_id: int | None,
    amount: Decimal,
    reference: str,
    supplier_id: int | None = None,
) -> Journal | None:
    """A rejected or failed withdrawal gives its ``amount`` back to the available balance."""
    holder = _holder(distributor_id, supplier_id)
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.WITHDRAWAL_RETURNED,
        key=f"withdrawal:{withdrawal_id}:returned",
        legs=[
            holder.leg(Account.WITHDRAWING, -amount),
            holder.leg(Account.AVAILABLE, amount),
        ],
        reference=reference,
        memo=f"withdrawal {withdrawal_id} returned",
    )


def ledger_post_withdrawal_paid(
    *,
    merchant_id: int,
    withdrawal_id: int,
    distributor_id: int | None,
    amount: Decimal,
    fee: Decimal,
    tax: Decimal,
    net: Decimal,
    reference: str,
    supplier_id: int | None = None,
) -> Journal | None:
    """The provider paid ``net`` out; the merchant keeps the ``fee``, ``tax`` is withheld.
    ``reference`` is the payout's idempotency key (the provider lists it so: reconciliation)."""
    holder = _holder(distributor_id, supplier_id)
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.WITHDRAWAL_PAID,
        key=f"withdrawal:{withdrawal_id}:paid",
        legs=[
            holder.leg(Account.WITHDRAWING, -amount),
            Leg(Account.MERCHANT_PAYABLE, fee),
            Leg(Account.TAX_WITHHELD, tax),
            holder.leg(Account.WITHDRAWN, net),
        ],
        reference=reference,
        memo=f"withdrawal {withdrawal_id} paid",
    )


def ledger_post_split_payout(
    *,
    merchant_id: int,
    split_key: str,
    order_id: int,
    payment_id: int,
    distributor_id: int | None,
    amount: Decimal,
    supplier_id: int | None = None,
) -> Journal | None:
    """A distributor's (or a supplier's) share of a payment split (分账) leaves their available
    balance: paid out through the split, like a withdrawal without fee. No commission is named on
    the legs (the records keep their own). Key ``split:<split key>``."""
    holder = _holder(distributor_id, supplier_id)
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.ADJUSTMENT,
        key=f"{SPLIT_KEY_PREFIX}{split_key}",
        order_id=order_id,
        payment_id=payment_id,
        reference=split_key,
        memo=SPLIT_MEMO,
        legs=[
            holder.leg(Account.AVAILABLE, -amount),
            holder.leg(Account.WITHDRAWN, amount),
        ],
    )


# --- The supplier's share (供应商货款) ---------------------------------------------------------
# A supplied line's supply price × quantity is owed to its supplier from the payment on: frozen
# until the after-sale window closes, like commission. ``supply_share_id`` names the drop-shipping
# row a release or a reversal is for (its key); the legs carry the supplier.

SUPPLY_BORNE_BY_SUPPLIER = "borne by the supplier"
SUPPLY_BORNE_BY_MERCHANT = "borne by the merchant"


@dataclass(frozen=True)
class SupplyOwed:
    """What one supplier is owed for the supplied lines of one order."""

    supplier_id: int
    amount: Decimal


def ledger_post_supply_owed(
    *, merchant_id: int, order_id: int, payment_id: int | None, owed: Sequence[SupplyOwed]
) -> Journal | None:
    """At payment: the merchant owes each supplier its share, frozen. Key
    ``order:<id>:supply``: once per order, however often the payment is notified."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.SUPPLY_OWED,
        key=f"order:{order_id}:supply",
        order_id=order_id,
        payment_id=payment_id,
        legs=[
            Leg(Account.MERCHANT_PAYABLE, -sum((item.amount for item in owed), ZERO)),
            *(
                Leg(Account.SUPPLIER_FROZEN, item.amount, supplier_id=item.supplier_id)
                for item in owed
            ),
        ],
    )


def ledger_post_supply_released(
    *,
    merchant_id: int,
    supply_share_id: int,
    supplier_id: int,
    order_id: int,
    amount: Decimal,
    at: datetime | None = None,
) -> Journal | None:
    """A supplied line's frozen ``amount`` becomes the supplier's available balance (once)."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.SUPPLY_RELEASED,
        key=f"supply:{supply_share_id}:released",
        order_id=order_id,
        at=at,
        legs=[
            Leg(Account.SUPPLIER_FROZEN, -amount, supplier_id=supplier_id),
            Leg(Account.SUPPLIER_AVAILABLE, amount, supplier_id=supplier_id),
        ],
    )


def ledger_post_supply_reversed(
    *,
    merchant_id: int,
    supply_share_id: int,
    supplier_id: int,
    order_id: int,
    refund_case_id: int,
    amount: Decimal,
    from_frozen: bool,
) -> Journal | None:
    """A refund the supplier bears takes ``amount`` of its share of a line back, from its frozen
    balance or its available one (even below zero). Key ``supply:<share>:refund:<case>``."""
    return ledger_post(
        merchant_id=merchant_id,
        kind=Journal.Kind.SUPPLY_REVERSED,
        key=f"supply:{supply_share_id}:refund:{refund_case_id}",
        order_id=order_id,
        reference=f"refund:{refund_case_id}",
        memo=SUPPLY_BORNE_BY_SUPPLIER,
        legs=[
            Leg(
                Account.SUPPLIER_FROZEN if from_frozen else Account.SUPPLIER_AVAILABLE,
                -amount,
                supplier_id=supplier_id,
            ),
            Leg(Account.MERCHANT_PAYABLE, amount),
        ],
    )
