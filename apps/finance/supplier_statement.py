"""The supplier's statement (供应商对账单): what each store owes it, movement by movement, with the
running balance of each of its accounts — frozen, available, being withdrawn, withdrawn — over
all the stores that sell its goods. Read from the ledger's supplier_* legs only, so it always
agrees with ``SupplierWallet`` (``ledger_check`` holds them equal)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.core.money import ZERO
from apps.ledger.models import Journal, LedgerEntry, SupplierWallet
from apps.ledger.posting import SUPPLIER_COLUMNS
from apps.suppliers.models import Supplier

STATEMENT_LIMIT = 500


@dataclass(frozen=True)
class StatementRow:
    at: datetime
    store: str
    movement: str
    order_number: str
    memo: str
    changes: dict[str, Decimal]  # column (frozen, available, withdrawing, withdrawn) → change
    balances: dict[str, Decimal]  # the running balance of each column after this movement


def supplier_balances(*, supplier: Supplier) -> list[SupplierWallet]:
    """The supplier's wallet with each store that sold its goods, by store name."""
    return list(
        SupplierWallet.objects.filter(supplier=supplier)
        .select_related("merchant")
        .order_by("merchant__name", "merchant_id")
    )


def supplier_statement(*, supplier: Supplier, limit: int = STATEMENT_LIMIT) -> list[StatementRow]:
    """The supplier's movements, oldest first (the last ``limit``), one row per journal, with
    the running balances after each (counted from the very first movement)."""
    legs = (
        LedgerEntry.objects.filter(supplier=supplier)
        .select_related("journal__order", "merchant")
        .order_by("journal_id", "id")
    )
    kinds = dict(Journal.Kind.choices)
    running: dict[str, Decimal] = defaultdict(lambda: ZERO)
    rows: list[StatementRow] = []
    current: int | None = None
    changes: dict[str, Decimal] = {}
    last: LedgerEntry | None = None

    def close() -> None:
        if last is None:
            return
        for column, change in changes.items():
            running[column] += change
        journal = last.journal
        rows.append(
            StatementRow(
                at=journal.created_at,
                store=last.merchant.name,
                movement=str(kinds.get(journal.kind, journal.kind)),
                order_number=journal.order.number if journal.order is not None else "",
                memo=journal.memo,
                changes=dict(changes),
                balances={column: running[column] for column in SUPPLIER_COLUMNS.values()},
            )
        )

    for leg in legs.iterator():
        if leg.journal_id != current:
            close()
            current, changes = leg.journal_id, {}
        column = SUPPLIER_COLUMNS[leg.account]
        changes[column] = changes.get(column, ZERO) + leg.amount
        last = leg
    close()
    return rows[-limit:]
