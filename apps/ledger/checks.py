"""The ledger's invariants, and the one list of every app's (``manage.py ledger_check``).

The ledger knows none of the apps that post to it, so each app that owns money rows registers the
checks of its own rows here (``@ledger_check`` in its ``ledger_checks.py``, imported by its
``AppConfig.ready()``); ``ledger_breaches`` runs them all in ``INSTALLED_APPS`` order, lowest app
first. A check takes the merchant to check (None: all) and yields one readable line per breach.

The ledger's own checks: every journal has at least two entries, they sum to zero, and they
belong to its merchant; every wallet balance equals the sum of its account's entries, and no
distributor has entries without a wallet; the same for each supplier's wallet with a merchant.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from apps.core.money import ZERO

from .models import Journal, LedgerEntry, SupplierWallet, Wallet
from .posting import DISTRIBUTOR_ACCOUNTS, SUPPLIER_COLUMNS

Check = Callable[[int | None], Iterable[str]]


@dataclass(frozen=True)
class Counted:
    """What a summary line counts: ``label`` and the rows of one merchant (None: all)."""

    label: str
    rows: Callable[[int | None], QuerySet]


_checks: list[Check] = []
_counted: list[Counted] = []


def ledger_check(check: Check) -> Check:
    """Register ``check`` with ``ledger_breaches`` (a decorator; each function once)."""
    if check not in _checks:
        _checks.append(check)
    return check


def ledger_count(label: str, rows: Callable[[int | None], QuerySet]) -> None:
    """Name rows the summary line of ``ledger_check`` counts (e.g. the commission records)."""
    if all(counted.label != label for counted in _counted):
        _counted.append(Counted(label, rows))


def ledger_breaches(*, merchant_id: int | None = None) -> list[str]:
    """Every invariant breach found, as one line each (empty when the ledger is sound)."""
    return [breach for check in _checks for breach in check(merchant_id)]


def ledger_stats(*, merchant_id: int | None = None) -> dict[str, int]:
    """How many rows the checks went over, per label, in registration order."""
    return {counted.label: counted.rows(merchant_id).count() for counted in _counted}


def merchant_scope(merchant_id: int | None, field: str = "merchant_id") -> Q:
    """The filter of one merchant's rows (everything when ``merchant_id`` is None)."""
    return Q(**{field: merchant_id}) if merchant_id is not None else Q()


@ledger_check
def _journals_balance(merchant_id: int | None) -> Iterator[str]:
    journals = (
        Journal.objects.filter(merchant_scope(merchant_id))
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
    orphans = LedgerEntry.objects.filter(merchant_scope(merchant_id), journal__isnull=True).count()
    if orphans:
        yield f"{orphans} ledger entries belong to no journal"


@ledger_check
def _wallets_match(merchant_id: int | None) -> Iterator[str]:
    sums: dict[tuple[int, str], Decimal] = {
        (distributor_id, account): total
        for distributor_id, account, total in LedgerEntry.objects.filter(
            merchant_scope(merchant_id), distributor__isnull=False
        )
        .values("distributor_id", "account")
        .annotate(total=Sum("amount"))
        .values_list("distributor_id", "account", "total")
    }
    wallets = {
        wallet.distributor_id: wallet
        for wallet in Wallet.objects.filter(merchant_scope(merchant_id))
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


@ledger_check
def _supplier_wallets_match(merchant_id: int | None) -> Iterator[str]:
    sums: dict[tuple[int, int, str], Decimal] = {
        (merchant, supplier_id, account): total
        for merchant, supplier_id, account, total in LedgerEntry.objects.filter(
            merchant_scope(merchant_id), supplier__isnull=False
        )
        .values("merchant_id", "supplier_id", "account")
        .annotate(total=Sum("amount"))
        .values_list("merchant_id", "supplier_id", "account", "total")
    }
    wallets = {
        (wallet.merchant_id, wallet.supplier_id): wallet
        for wallet in SupplierWallet.objects.filter(merchant_scope(merchant_id))
    }
    for merchant, supplier_id in sorted({(m, s) for m, s, _account in sums}):
        if (merchant, supplier_id) not in wallets:
            yield f"supplier {supplier_id} has ledger entries with merchant {merchant} but no wallet"
    for (merchant, supplier_id), wallet in sorted(wallets.items()):
        for account, column in SUPPLIER_COLUMNS.items():
            expected = sums.get((merchant, supplier_id, account), ZERO)
            if getattr(wallet, column) != expected:
                yield (
                    f"wallet of supplier {supplier_id} with merchant {merchant}: {column} is "
                    f"{getattr(wallet, column)}, its entries sum to {expected}"
                )


ledger_count("journals", lambda merchant_id: Journal.objects.filter(merchant_scope(merchant_id)))
ledger_count("entries", lambda merchant_id: LedgerEntry.objects.filter(merchant_scope(merchant_id)))
ledger_count("wallets", lambda merchant_id: Wallet.objects.filter(merchant_scope(merchant_id)))
ledger_count(
    "supplier wallets",
    lambda merchant_id: SupplierWallet.objects.filter(merchant_scope(merchant_id)),
)
