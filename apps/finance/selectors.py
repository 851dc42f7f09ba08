"""Finance reports of one merchant, read from the double-entry ledger.

Every report is a fixed number of queries whatever its number of rows (rows are iterated from one
query; totals come from one aggregate).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, F, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.commissions.models import CommissionRecord, explanation_text
from apps.core.money import ZERO
from apps.distributors.models import Distributor
from apps.ledger.models import Journal, LedgerEntry, Wallet
from apps.ledger.posting import SPLIT_MEMO
from apps.merchants.models import Merchant
from apps.payments.models import PaymentNotificationLog, PaymentSplit, ProviderStatementLine
from apps.payments.providers import PROVIDERS
from apps.payments.providers.sandbox import SHANGHAI
from apps.payments.statements import statement_providers, statements_for_period
from apps.withdrawals.models import Withdrawal

Account = LedgerEntry.Account
Kind = Journal.Kind
MONEY = DecimalField(max_digits=14, decimal_places=2)
DISTRIBUTOR_BALANCES = (Account.FROZEN, Account.AVAILABLE, Account.WITHDRAWING, Account.WITHDRAWN)


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end`` inclusive, in the site's time zone."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def q(self, field: str = "created_at") -> Q:
        return Q(**{f"{field}__gte": self.since, f"{field}__lt": self.until})


def _leg_sum(
    account: str | tuple[str, ...], *, sign: int = 1, kinds: tuple[str, ...] = ()
) -> Coalesce:
    accounts = (account,) if isinstance(account, str) else account
    condition = Q(entries__account__in=accounts)
    if kinds:
        condition &= Q(kind__in=kinds)
    return Coalesce(
        Sum(
            Case(When(condition, then=F("entries__amount") * sign), output_field=MONEY),
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def _commission_sum(kind: str, sign: int) -> Coalesce:
    return Coalesce(
        Sum(
            Case(
                When(
                    Q(kind=kind, entries__account__in=[Account.FROZEN, Account.AVAILABLE]),
                    then=F("entries__amount") * sign,
                ),
                output_field=MONEY,
            )
        ),
        Value(ZERO),
        output_field=MONEY,
    )


STATEMENT_FIGURES = {
    "payments_in": lambda: _leg_sum(Account.PROVIDER, sign=-1, kinds=(Kind.PAYMENT,)),
    "refunds_out": lambda: _leg_sum(Account.PROVIDER, kinds=(Kind.REFUND,)),
    "platform_fees": lambda: _leg_sum(Account.PLATFORM_FEE),
    "commission_earned": lambda: _commission_sum(Kind.COMMISSION_EARNED, 1),
    "commission_reversed": lambda: _commission_sum(Kind.COMMISSION_REVERSED, -1),
    "merchant_net": lambda: _leg_sum(Account.MERCHANT_PAYABLE),
}
STATEMENT_COLUMNS = [
    ("created_at", _("At")),
    ("kind", _("Movement")),
    ("order_number", _("Order")),
    ("reference", _("Reference")),
    ("payments_in", _("Payments in")),
    ("refunds_out", _("Refunds out")),
    ("platform_fees", _("Platform fee")),
    ("commission_earned", _("Commission earned")),
    ("commission_reversed", _("Commission reversed")),
    ("merchant_net", _("Merchant net")),
]


def _statement_journals(*, merchant: Merchant, period: Period) -> QuerySet[Journal]:
    return Journal.objects.filter(period.q(), merchant=merchant)


def statement_queryset(*, merchant: Merchant, period: Period) -> QuerySet:
    """The journals of the period as raw rows (one query); ``statement_row`` finishes each."""
    return (
        _statement_journals(merchant=merchant, period=period)
        .annotate(**{name: make() for name, make in STATEMENT_FIGURES.items()})
        .values("id", "created_at", "kind", "order__number", "reference", *STATEMENT_FIGURES)
        .order_by("created_at", "id")
    )


def statement_row(row: dict[str, Any]) -> dict[str, Any]:
    row["order_number"] = row.pop("order__number") or ""
    row["kind"] = Kind(row["kind"]).label if row["kind"] in Kind.values else row["kind"]
    return row


def statement_rows(*, merchant: Merchant, period: Period) -> Iterator[dict[str, Any]]:
    """One row per journal of the period: what it moved for the merchant."""
    rows = statement_queryset(merchant=merchant, period=period)
    for row in rows.iterator(chunk_size=2000):
        yield statement_row(row)


def statement_totals(*, merchant: Merchant, period: Period) -> dict[str, Decimal]:
    return _statement_journals(merchant=merchant, period=period).aggregate(
        **{name: make() for name, make in STATEMENT_FIGURES.items()}
    )


PAYABLE_COLUMNS = [
    ("distributor", _("Distributor")),
    ("invite_code", _("Invite code")),
    ("frozen", _("Frozen")),
    ("available", _("Available")),
    ("withdrawing", _("Being withdrawn")),
    ("payable", _("Payable")),
]


def commission_payable_queryset(*, merchant: Merchant) -> QuerySet:
    """Wallets still owed something, largest first, as raw rows; ``payable_row`` finishes each."""
    return (
        Wallet.objects.filter(merchant=merchant)
        .annotate(payable=F("frozen") + F("available") + F("withdrawing"))
        .exclude(frozen=0, available=0, withdrawing=0)
        .values(
            "distributor_id",
            "distributor__user__username",
            "distributor__invite_code",
            "frozen",
            "available",
            "withdrawing",
            "payable",
        )
        .order_by("-payable", "distributor_id")
    )


def payable_row(row: dict[str, Any]) -> dict[str, Any]:
    row["distributor"] = row.pop("distributor__user__username")
    row["invite_code"] = row.pop("distributor__invite_code")
    return row


def commission_payable_rows(*, merchant: Merchant) -> Iterator[dict[str, Any]]:
    """Per distributor: commission still owed (frozen + available + being withdrawn)."""
    rows = commission_payable_queryset(merchant=merchant)
    for row in rows.iterator(chunk_size=2000):
        yield payable_row(row)


def commission_payable_totals(*, merchant: Merchant) -> dict[str, Decimal]:
    totals = Wallet.objects.filter(merchant=merchant).aggregate(
        total_frozen=Coalesce(Sum("frozen"), ZERO, output_field=MONEY),
        total_available=Coalesce(Sum("available"), ZERO, output_field=MONEY),
        total_withdrawing=Coalesce(Sum("withdrawing"), ZERO, output_field=MONEY),
    )
    figures = {name.removeprefix("total_"): value for name, value in totals.items()}
    figures["payable"] = sum(figures.values(), ZERO)
    return figures


# --- reconciliation ----------------------------------------------------------------------------


class Outcome:
    MATCHED = "matched"
    MISSING_IN_LEDGER = "missing_in_ledger"
    MISSING_AT_PROVIDER = "missing_at_provider"
    AMOUNT_MISMATCH = "amount_mismatch"
    REFUSED_NOTIFICATION = "refused_notification"


OUTCOME_LABELS = {
    Outcome.MATCHED: _("Matched"),
    Outcome.MISSING_IN_LEDGER: _("Missing in the ledger"),
    Outcome.MISSING_AT_PROVIDER: _("Missing at the provider"),
    Outcome.AMOUNT_MISMATCH: _("Amount mismatch"),
    Outcome.REFUSED_NOTIFICATION: _("Refused notification"),
}
RECONCILIATION_COLUMNS = [
    ("outcome", _("Outcome")),
    ("provider", _("Provider")),
    ("kind", _("Kind")),
    ("reference", _("Reference")),
    ("provider_amount", _("Provider amount")),
    ("ledger_amount", _("Ledger amount")),
    ("at", _("At")),
    ("detail", _("Detail")),
]
# The kinds of a provider's statement line (providers.base.StatementLine.kind).
STATEMENT_KIND_LABELS = {
    "payment": _("Payment"),
    "refund": _("Refund"),
    "split": _("Split"),
    "payout": _("Payout"),
}
# What the provider's amount is, in the ledger: (journal kind, account(s), sign).
LEDGER_SIDE: dict[str, tuple[str, str | tuple[str, ...], int]] = {
    "payment": (Kind.PAYMENT, Account.PROVIDER, -1),
    "refund": (Kind.REFUND, Account.PROVIDER, 1),
    # A distributor's or a supplier's (each leg is one or the other).
    "payout": (Kind.WITHDRAWAL_PAID, (Account.WITHDRAWN, Account.SUPPLIER_WITHDRAWN), 1),
    "split": (Kind.ADJUSTMENT, (Account.WITHDRAWN, Account.SUPPLIER_WITHDRAWN), 1),
}


@dataclass(frozen=True)
class LedgerMovement:
    amount: Decimal
    at: datetime
    provider: str


def _ledger_amounts(*, merchant: Merchant, q: Q) -> dict[tuple[str, str], LedgerMovement]:
    """(statement kind, reference) → the ledger's movement of the journals matching ``q``, with
    the provider it went through (the payment's, or the withdrawal's payout method)."""
    by_kind = {journal_kind: kind for kind, (journal_kind, _a, _s) in LEDGER_SIDE.items()}
    rows = list(
        Journal.objects.filter(q, merchant=merchant)
        .filter(Q(kind__in=[k for k in by_kind if k != Kind.ADJUSTMENT]) | Q(memo=SPLIT_MEMO))
        .exclude(reference="")
        .annotate(
            **{
                f"amount_{kind}": _leg_sum(account, sign=sign, kinds=(journal_kind,))
                for kind, (journal_kind, account, sign) in LEDGER_SIDE.items()
            }
        )
        .values_list(
            "kind",
            "reference",
            "created_at",
            "payment__provider",
            *[f"amount_{k}" for k in LEDGER_SIDE],
        )
    )
    payouts = dict(
        Withdrawal.objects.filter(
            merchant=merchant,
            idempotency_key__in=[row[1] for row in rows if row[0] == Kind.WITHDRAWAL_PAID],
        ).values_list("idempotency_key", "payout_provider")
    )
    found: dict[tuple[str, str], LedgerMovement] = {}
    for kind, reference, at, provider, *amounts in rows:
        statement_kind = by_kind[kind]
        amount = dict(zip(LEDGER_SIDE, amounts, strict=True))[statement_kind]
        previous = found.get((statement_kind, reference))
        found[(statement_kind, reference)] = LedgerMovement(
            amount=(previous.amount if previous else ZERO) + amount,
            at=at,
            provider=provider or payouts.get(reference, ""),
        )
    return found


@dataclass(frozen=True)
class Reconciliation:
    rows: list[dict[str, Any]]
    # provider → the days of the period whose statement is not downloaded yet (nothing of
    # theirs is reported missing at that provider).
    statements_missing: dict[str, list[date]]


def _row(outcome: str, provider: str, kind: str, reference: str, **values: Any) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "provider": provider,
        "kind": str(STATEMENT_KIND_LABELS.get(kind, kind)),
        "reference": reference,
        "provider_amount": values.get("provider_amount"),
        "ledger_amount": values.get("ledger_amount"),
        "at": values["at"],
        "detail": values.get("detail", ""),
    }


def reconciliation(*, merchant: Merchant, period: Period) -> Reconciliation:
    """Each provider's statements (``statement()``, as payments downloaded and kept them) of the
    period against the ledger, by reference and amount.

    A statement line is looked up in the whole ledger and a journal of the period in the
    statements of a day more on each side, so a movement near a period's edge is not reported
    missing. A split to the platform or the merchant moves no ledger balance (the ledger already
    owes it to them): it is matched against the split rows instead. Refused notifications are
    listed too.
    """
    journals = _ledger_amounts(merchant=merchant, q=period.q())
    providers = statement_providers(merchant_id=merchant.pk)
    providers += sorted(
        ({movement.provider for movement in journals.values()} & set(PROVIDERS)) - set(providers)
    )
    statements = statements_for_period(
        merchant_id=merchant.pk,
        start=period.start - timedelta(days=1),
        end=period.end + timedelta(days=1),
        providers=providers,
    )
    lines = [(statement.provider, line) for statement in statements for line in statement.lines]
    window = Q(created_at__gte=period.since - timedelta(days=1)) & Q(
        created_at__lt=period.until + timedelta(days=1)
    )
    known = _ledger_amounts(
        merchant=merchant, q=window | Q(reference__in={line.reference for _p, line in lines})
    )
    # How each provider's statement lists the ledger's references (WeChat Pay keeps only the
    # letters and digits of a payout's key).
    listed = {
        (movement.provider, kind, PROVIDERS[movement.provider].statement_reference(
            kind=kind, reference=reference
        )): (reference, movement)
        for (kind, reference), movement in known.items()
        if movement.provider in PROVIDERS
    }  # fmt: skip
    splits = dict(
        PaymentSplit.objects.filter(
            merchant=merchant,
            idempotency_key__in={line.reference for _p, line in lines if line.kind == "split"},
        )
        .exclude(receiver=PaymentSplit.Receiver.DISTRIBUTOR)
        .values_list("idempotency_key", "amount")
    )
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for provider, line in lines:
        match = listed.get((provider, line.kind, line.reference))
        if match is not None:
            seen.add((line.kind, match[0]))
        if not (period.since <= line.occurred_at < period.until):
            continue  # a day either side, read only to see the journals near the edges
        if line.kind == "split" and line.reference in splits:
            ledger: Decimal | None = splits[line.reference]
        else:
            ledger = match[1].amount if match is not None else None
        if ledger is None:
            outcome = Outcome.MISSING_IN_LEDGER
        elif ledger != line.amount:
            outcome = Outcome.AMOUNT_MISMATCH
        else:
            outcome = Outcome.MATCHED
        rows.append(
            _row(
                outcome,
                provider,
                line.kind,
                line.reference,
                provider_amount=line.amount,
                ledger_amount=ledger,
                at=line.occurred_at,
                detail=line.receiver or line.provider_reference,
            )
        )
    by_provider = {statement.provider: statement for statement in statements}
    unseen = [key for key in journals if key not in seen]
    listed_elsewhere = set(
        ProviderStatementLine.objects.filter(
            merchant=merchant, reference__in={reference for _kind, reference in unseen}
        ).values_list("kind", "reference")
    )
    for kind, reference in unseen:
        movement = journals[(kind, reference)]
        statement = by_provider.get(movement.provider)
        if (
            statement is None
            or kind not in statement.kinds
            or timezone.localdate(movement.at, SHANGHAI) in statement.missing_days
            or (kind, reference) in listed_elsewhere
        ):
            continue  # the statement that would list it is not known (yet), or lists it
        rows.append(
            _row(
                Outcome.MISSING_AT_PROVIDER,
                movement.provider,
                kind,
                reference,
                ledger_amount=movement.amount,
                at=movement.at,
            )
        )
    for (
        provider,
        trade_no,
        out_trade_no,
        notified,
        expected,
        times,
        at,
    ) in PaymentNotificationLog.objects.filter(
        period.q("first_received_at"), merchant=merchant
    ).values_list(
        "provider",
        "provider_trade_no",
        "payment__out_trade_no",
        "notified_amount",
        "expected_amount",
        "times_received",
        "first_received_at",
    ):
        rows.append(
            _row(
                Outcome.REFUSED_NOTIFICATION,
                provider,
                "payment",
                out_trade_no,
                provider_amount=notified,
                ledger_amount=expected,
                at=at,
                detail=f"{trade_no} ×{times}",
            )
        )
    rows.sort(key=lambda row: (row["outcome"] == Outcome.MATCHED, row["at"], row["reference"]))
    missing = {
        statement.provider: [
            day for day in statement.missing_days if period.start <= day <= period.end
        ]
        for statement in statements
    }
    return Reconciliation(rows=rows, statements_missing={k: v for k, v in missing.items() if v})


def reconciliation_rows(*, merchant: Merchant, period: Period) -> list[dict[str, Any]]:
    return reconciliation(merchant=merchant, period=period).rows


# --- the distributor's statement ---------------------------------------------------------------

DISTRIBUTOR_STATEMENT_COLUMNS = [
    ("created_at", _("At")),
    ("movement", _("Movement")),
    ("order_number", _("Order")),
    ("level", _("Level")),
    ("rule", _("Rule")),
    ("account", _("Balance")),
    ("amount", _("Amount")),
    ("frozen", _("Frozen after")),
    ("available", _("Available after")),
    ("withdrawing", _("Being withdrawn after")),
    ("withdrawn", _("Withdrawn after")),
]
DISTRIBUTOR_STATEMENT_API_COLUMNS = [
    ("created_at", _("At")),
    ("movement", _("Movement")),
    ("order_number", _("Order")),
    ("level", _("Level")),
    ("rule", _("Rule")),
    ("rate_percent", _("Rate (%)")),
    ("explanation", _("Explanation")),
    ("account_label", _("Balance")),
    ("amount", _("Amount")),
    ("frozen", _("Frozen after")),
    ("available", _("Available after")),
    ("withdrawing", _("Being withdrawn after")),
    ("withdrawn", _("Withdrawn after")),
]
MOVEMENT_LABELS: dict[str, Any] = {
    Kind.COMMISSION_EARNED: _("Earned"),
    Kind.COMMISSION_RELEASED: _("Released"),
    Kind.COMMISSION_REVERSED: _("Reversed"),
    Kind.WITHDRAWAL_REQUESTED: _("Withdrawal requested"),
    Kind.WITHDRAWAL_RETURNED: _("Withdrawal returned"),
    Kind.WITHDRAWAL_PAID: _("Withdrawn"),
    Kind.ADJUSTMENT: _("Adjustment"),
}


def distributor_opening_balances(*, distributor: Distributor, period: Period) -> dict[str, Decimal]:
    rows = (
        LedgerEntry.objects.filter(
            merchant_id=distributor.merchant_id,
            distributor=distributor,
            created_at__lt=period.since,
        )
        .values("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )
    balances: dict[str, Decimal] = dict.fromkeys(DISTRIBUTOR_BALANCES, ZERO)
    balances.update(dict(rows))
    return balances


def distributor_statement_rows(
    *, distributor: Distributor, period: Period, opening: dict[str, Decimal]
) -> Iterator[dict[str, Any]]:
    """Every movement of the distributor's balances in the period, oldest first, with each
    balance as it stood after it (the last row's balances are the wallet's, for a period ending
    today)."""
    balances = dict(opening)
    entries = (
        LedgerEntry.objects.filter(
            period.q(), merchant_id=distributor.merchant_id, distributor=distributor
        )
        .values_list(
            "created_at",
            "journal__kind",
            "journal__memo",
            "journal__order__number",
            "commission__level",
            "commission__rate_percent",
            "account",
            "amount",
        )
        .order_by("created_at", "id")
    )
    accounts = dict(Account.choices)
    for at, kind, memo, number, level, rate, account, amount in entries.iterator(chunk_size=2000):
        balances[account] += amount
        movement = _("Paid by split") if memo == SPLIT_MEMO else MOVEMENT_LABELS.get(kind, kind)
        yield {
            "created_at": at,
            "movement": movement,
            "order_number": number or "",
            "level": level,
            "rule": f"L{level} {rate}%" if level else "",
            "account": accounts.get(account, account),
            "amount": amount,
            **balances,
        }


def _running(account: str) -> Window:
    return Window(
        Sum(Case(When(account=account, then=F("amount")), default=Value(ZERO), output_field=MONEY)),
        order_by=[F("id").asc()],
    )


def distributor_statement_queryset(*, distributor: Distributor, period: Period) -> QuerySet:
    """The period's movements of the distributor's balances in the order they were posted (the
    order the wallet saw them, whatever time a movement was dated), each with the running
    sum of every balance within the period (a window, so any page of it is one query); add the
    opening balances (``distributor_opening_balances``) to get the balances after each row."""
    return (
        LedgerEntry.objects.filter(
            period.q(), merchant_id=distributor.merchant_id, distributor=distributor
        )
        .annotate(**{f"running_{account}": _running(account) for account in DISTRIBUTOR_BALANCES})
        .values(
            "id",
            "created_at",
            "journal__kind",
            "journal__memo",
            "journal__order__number",
            "commission__level",
            "commission__kind",
            "commission__rule",
            "commission__rate_percent",
            "commission__explanation",
            "account",
            "amount",
            *(f"running_{account}" for account in DISTRIBUTOR_BALANCES),
        )
        .order_by("id")
    )


def distributor_statement_row(
    row: dict[str, Any], *, opening: dict[str, Decimal]
) -> dict[str, Any]:
    """One raw row of ``distributor_statement_queryset`` as the API shows it."""
    kind, memo = row["journal__kind"], row["journal__memo"]
    level, rule = row["commission__level"], row["commission__rule"]
    rules = dict(CommissionRecord.Rule.choices)
    return {
        "id": row["id"],
        "created_at": row["created_at"],
        "movement": _("Paid by split") if memo == SPLIT_MEMO else MOVEMENT_LABELS.get(kind, kind),
        "order_number": row["journal__order__number"] or "",
        "level": level,
        "commission_kind": row["commission__kind"] or "",
        "rule": str(rules.get(rule, rule)) if rule else "",
        "rate_percent": row["commission__rate_percent"],
        "explanation": explanation_text(row["commission__explanation"] or {}),
        "account": row["account"],
        "account_label": Account(row["account"]).label,
        "amount": row["amount"],
        **{
            account: opening[account] + row[f"running_{account}"]
            for account in DISTRIBUTOR_BALANCES
        },
    }
