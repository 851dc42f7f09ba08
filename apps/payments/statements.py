"""Providers' statements (对账单): each day's bill of each merchant's provider, downloaded through
the provider interface (``statement()``) once per (merchant, provider, day) and kept, so that
reconciliation (apps.finance) reads what the provider booked, never the provider's tables.

The sandbox's books are in this database, so a day beat has not downloaded yet is read from it
directly (through ``statement()`` still); a real provider's day is known only once downloaded.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.merchants.models import Merchant

from .models import PaymentSplit, ProviderStatement, ProviderStatementLine
from .providers import PROVIDERS, ProviderError, StatementLine, provider_get
from .providers.base import InvalidNotification
from .providers.sandbox import SHANGHAI, SandboxProvider

logger = logging.getLogger(__name__)


def statement_download(*, merchant_id: int, provider: str, day: date) -> ProviderStatement:
    """The merchant's statement of ``provider`` for ``day``, downloaded the first time and kept:
    asked again (beat's next run, a retry, two workers at once), the stored one is returned and
    nothing is downloaded twice. Raises ProviderError when the provider could not give it (the
    next run asks again)."""
    stored = ProviderStatement.objects.filter(
        merchant_id=merchant_id, provider=provider, day=day
    ).first()
    if stored is not None:
        return stored
    try:
        lines = provider_get(provider).statement(merchant_id=merchant_id, day=day)
    except InvalidNotification as error:  # an answer that does not verify
        raise ProviderError(str(error)) from error
    try:
        with transaction.atomic():
            statement = ProviderStatement.objects.create(
                merchant_id=merchant_id, provider=provider, day=day, line_count=len(lines)
            )
            ProviderStatementLine.objects.bulk_create(
                [
                    ProviderStatementLine(
                        merchant_id=merchant_id,
                        statement=statement,
                        kind=line.kind,
                        reference=line.reference[:96],
                        amount=line.amount,
                        fee=line.fee,
                        occurred_at=line.occurred_at,
                        provider_reference=line.provider_reference[:64],
                        out_trade_no=line.out_trade_no[:64],
                        receiver=line.receiver[:255],
                    )
                    for line in lines
                ]
            )
    except IntegrityError:
        # Another worker stored the same day meanwhile: its copy stands.
        return ProviderStatement.objects.get(merchant_id=merchant_id, provider=provider, day=day)
    return statement


def statement_day_yesterday() -> date:
    """Yesterday in China's time: the last day whose bills the providers have closed."""
    return timezone.now().astimezone(SHANGHAI).date() - timedelta(days=1)


def statement_targets() -> list[tuple[int, str]]:
    """(merchant id, provider) of every statement beat downloads: each enabled account with a real
    provider, and every active merchant's sandbox books while the sandbox is enabled."""
    from apps.credentials.models import ProviderAccount

    enabled = settings.FENXIAO_PAYMENT_PROVIDERS
    targets: list[tuple[int, str]] = []
    if SandboxProvider.name in enabled:
        targets += [
            (merchant_id, SandboxProvider.name)
            for merchant_id in Merchant.objects.filter(status=Merchant.Status.ACTIVE)
            .order_by("pk")
            .values_list("pk", flat=True)
        ]
    targets += [
        (merchant_id, provider)
        for merchant_id, provider in ProviderAccount.objects.filter(enabled=True)
        .order_by("merchant_id", "provider")
        .values_list("merchant_id", "provider")
        if provider in enabled and provider in PROVIDERS
    ]
    return targets


def statements_download_day(*, day: date) -> dict[str, int]:
    """Download every target's statement for ``day``: how many were stored (or already were),
    and how many providers could not be asked (beat's next run tries those again)."""
    done = failed = 0
    for merchant_id, provider in statement_targets():
        try:
            statement_download(merchant_id=merchant_id, provider=provider, day=day)
        except ProviderError:
            logger.warning(
                "statement of %s for merchant %s on %s: the provider could not give it",
                provider,
                merchant_id,
                day,
                exc_info=True,
            )
            failed += 1
        else:
            done += 1
    return {"stored": done, "failed": failed}


# --- what reconciliation reads ------------------------------------------------------------------


@dataclass
class ProviderStatements:
    """One provider's statement lines over some days, and the days whose statement is unknown
    (not downloaded yet)."""

    provider: str
    kinds: frozenset[str]
    lines: list[StatementLine] = field(default_factory=list)
    missing_days: list[date] = field(default_factory=list)


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def statement_providers(*, merchant_id: int) -> list[str]:
    """The providers the merchant may have money with: the sandbox when enabled, each of its
    accounts (enabled or not: money taken before an account was switched off still counts)."""
    from apps.credentials.models import ProviderAccount

    names = (
        [SandboxProvider.name] if SandboxProvider.name in settings.FENXIAO_PAYMENT_PROVIDERS else []
    )
    names += [
        name
        for name in ProviderAccount.objects.filter(merchant_id=merchant_id)
        .order_by("provider")
        .values_list("provider", flat=True)
        .distinct()
        if name in PROVIDERS and name not in names
    ]
    return names


def statements_for_period(
    *, merchant_id: int, start: date, end: date, providers: Iterable[str]
) -> list[ProviderStatements]:
    """Each provider's statement lines for the days ``start``..``end`` (China's days): stored
    ones in one query; a day not stored yet is read live where the provider's books are local
    (the sandbox, no later than today), otherwise listed as missing."""
    providers = list(providers)
    stored_days: dict[str, set[date]] = {name: set() for name in providers}
    found: dict[str, ProviderStatements] = {
        name: ProviderStatements(provider=name, kinds=PROVIDERS[name].statement_kinds)
        for name in providers
    }
    for line in (
        ProviderStatementLine.objects.filter(
            merchant_id=merchant_id,
            statement__provider__in=providers,
            statement__day__gte=start,
            statement__day__lte=end,
        )
        .select_related("statement")
        .order_by("id")
    ):
        found[line.statement.provider].lines.append(
            StatementLine(
                kind=line.kind,
                reference=line.reference,
                amount=line.amount,
                occurred_at=line.occurred_at,
                provider_reference=line.provider_reference,
                out_trade_no=line.out_trade_no,
                receiver=line.receiver,
                fee=line.fee,
            )
        )
    for stored_provider, day in ProviderStatement.objects.filter(
        merchant_id=merchant_id, provider__in=providers, day__gte=start, day__lte=end
    ).values_list("provider", "day"):
        stored_days[stored_provider].add(day)
    today = timezone.now().astimezone(SHANGHAI).date()
    for name in providers:
        provider = PROVIDERS[name]
        for day in _days(start, min(end, today)):
            if day in stored_days[name]:
                continue
            if provider.statement_is_local:
                found[name].lines += provider.statement(merchant_id=merchant_id, day=day)
            else:
                found[name].missing_days.append(day)
        if provider.statement_splits_by_trade:
            found[name].lines = _splits_named_by_key(
                merchant_id=merchant_id, provider=name, lines=found[name].lines
            )
    return [found[name] for name in providers]


def _splits_named_by_key(
    *, merchant_id: int, provider: str, lines: list[StatementLine]
) -> list[StatementLine]:
    """The lines with each split named by its split row's key, for a provider whose statement
    names a split by the trade it splits. Each line takes a row of that payment no other line
    took: one of the same amount where there is one, else (a wrong amount, reported against a
    row) the first row left; a line whose trade has no row left keeps the trade's number, and is
    missing in the ledger."""
    trades = {line.out_trade_no for line in lines if line.kind == "split" and line.out_trade_no}
    if not trades:
        return lines
    left: dict[str, list[tuple[str, Decimal]]] = {}
    for out_trade_no, key, amount in (
        PaymentSplit.objects.filter(
            merchant_id=merchant_id,
            payment__provider=provider,
            payment__out_trade_no__in=trades,
        )
        .order_by("id")
        .values_list("payment__out_trade_no", "idempotency_key", "amount")
    ):
        left.setdefault(out_trade_no, []).append((key, amount))
    named = list(lines)
    unequal = []
    for index, line in enumerate(lines):
        rows = left.get(line.out_trade_no) if line.kind == "split" else None
        if not rows:
            continue
        same = next((row for row in rows if row[1] == line.amount), None)
        if same is None:
            unequal.append(index)
            continue
        rows.remove(same)
        named[index] = replace(line, reference=same[0])
    for index in unequal:
        rows = left[lines[index].out_trade_no]
        if rows:
            named[index] = replace(lines[index], reference=rows.pop(0)[0])
    return named
