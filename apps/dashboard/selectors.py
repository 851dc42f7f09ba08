"""The merchant dashboard's figures: one merchant (its staff) or all of them (the operator).

Money figures come from the ledger through the finance report's own selectors (so the dashboard
and the finance statement cannot disagree); counts from orders, bindings, distributors and
share-link visits. Every figure is one aggregate query, so the number of queries is the same for
ten orders or ten million.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.core.money import ZERO
from apps.distributors.models import CustomerBinding, Distributor
from apps.finance.selectors import STATEMENT_FIGURES, Period
from apps.ledger.models import Journal, LedgerEntry
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderLine

from .models import ShareVisit

RANGES = (1, 7, 30)
MONEY = DecimalField(max_digits=14, decimal_places=2)
PAID_STATUSES = (
    Order.Status.PAID,
    Order.Status.SHIPPED,
    Order.Status.COMPLETED,
)
Kind = Journal.Kind
Account = LedgerEntry.Account


@dataclass(frozen=True)
class Window:
    """``days`` whole days ending today, and the same number of days before them."""

    days: int
    today: date

    @property
    def current(self) -> Period:
        return Period(start=self.today - timedelta(days=self.days - 1), end=self.today)

    @property
    def previous(self) -> Period:
        start = self.today - timedelta(days=2 * self.days - 1)
        return Period(start=start, end=start + timedelta(days=self.days - 1))

    @property
    def both(self) -> Period:
        return Period(start=self.previous.start, end=self.today)


def _scoped(queryset: QuerySet, merchant: Merchant | None) -> QuerySet:
    return queryset if merchant is None else queryset.filter(merchant=merchant)


def _split(period: Period, field: str) -> tuple[Q, Q]:
    """(in the period, in the one before) conditions for an aggregate over both at once."""
    return period.q(field), ~period.q(field)


def _ledger_figures(*, merchant: Merchant | None, window: Window) -> dict[str, dict[str, Decimal]]:
    """Ledger money of each period (one query each): the finance statement's figures, plus
    commission released and paid out."""
    result: dict[str, dict[str, Decimal]] = {}
    for label, period in (("current", window.current), ("previous", window.previous)):
        journals = _scoped(Journal.objects.filter(period.q()), merchant)
        totals = journals.aggregate(
            **{name: make() for name, make in STATEMENT_FIGURES.items()},
            commission_released=Coalesce(
                Sum(
                    "entries__amount",
                    filter=Q(kind=Kind.COMMISSION_RELEASED, entries__account=Account.AVAILABLE),
                ),
                Value(ZERO),
                output_field=MONEY,
            ),
            commission_paid_out=Coalesce(
                Sum(
                    "entries__amount",
                    filter=Q(kind=Kind.WITHDRAWAL_PAID, entries__account=Account.WITHDRAWN),
                ),
                Value(ZERO),
                output_field=MONEY,
            ),
        )
        result[label] = totals
    return result


def _change(current: Decimal | int, previous: Decimal | int) -> str | None:
    """The change against the previous period in percent, one decimal; None when it was 0."""
    if not previous:
        return None
    return f"{(Decimal(current) - Decimal(previous)) * 100 / Decimal(previous):.1f}"


def dashboard_data(*, merchant: Merchant | None, days: int) -> dict[str, Any]:
    """Everything one dashboard shows, JSON-ready (money as strings with two places)."""
    window = Window(days=days, today=timezone.localdate())
    current, previous = window.current, window.previous
    ledger = _ledger_figures(merchant=merchant, window=window)

    orders = _scoped(Order.objects.all(), merchant)
    paid_now, paid_before = _split(current, "paid_at")
    counts = orders.filter(window.both.q("paid_at")).aggregate(
        orders_now=Count("pk", filter=paid_now),
        orders_before=Count("pk", filter=paid_before),
        through_distributors=Coalesce(
            Sum("payable_amount", filter=paid_now & Q(distributor__isnull=False)),
            Value(ZERO),
            output_field=MONEY,
        ),
        direct=Coalesce(
            Sum("payable_amount", filter=paid_now & Q(distributor__isnull=True)),
            Value(ZERO),
            output_field=MONEY,
        ),
    )
    bound_now, bound_before = _split(current, "bound_at")
    members = _scoped(
        CustomerBinding.objects.filter(window.both.q("bound_at")), merchant
    ).aggregate(now=Count("pk", filter=bound_now), before=Count("pk", filter=bound_before))
    joined_now, joined_before = _split(current, "joined_at")
    recruits = _scoped(Distributor.objects.filter(window.both.q("joined_at")), merchant).aggregate(
        now=Count("pk", filter=joined_now), before=Count("pk", filter=joined_before)
    )

    now, before = ledger["current"], ledger["previous"]
    paid_amount, paid_amount_before = now["payments_in"], before["payments_in"]

    def average(amount: Decimal, count: int) -> Decimal:
        return (amount / count).quantize(Decimal("0.01")) if count else ZERO

    kpis = {
        "paid_amount": (paid_amount, paid_amount_before),
        "orders": (counts["orders_now"], counts["orders_before"]),
        "average_order_value": (
            average(paid_amount, counts["orders_now"]),
            average(paid_amount_before, counts["orders_before"]),
        ),
        "refunds": (now["refunds_out"], before["refunds_out"]),
        "new_members": (members["now"], members["before"]),
        "new_distributors": (recruits["now"], recruits["before"]),
        "commission_frozen": (now["commission_earned"], before["commission_earned"]),
        "commission_released": (now["commission_released"], before["commission_released"]),
        "commission_paid_out": (now["commission_paid_out"], before["commission_paid_out"]),
    }

    daily_money = dict(
        _scoped(Journal.objects.filter(current.q(), kind=Kind.PAYMENT), merchant)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(amount=STATEMENT_FIGURES["payments_in"]())
        .values_list("day", "amount")
    )
    daily_orders = dict(
        orders.filter(current.q("paid_at"))
        .annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    days_list = [current.start + timedelta(days=offset) for offset in range(days)]

    top_products = list(
        _scoped(OrderLine.objects.filter(current.q("order__paid_at")), merchant)
        .values("product_id", "product_name")
        .annotate(amount=Sum("paid_amount"), units=Sum("quantity"))
        .order_by("-amount", "product_id")[:10]
    )
    top_distributors = list(
        orders.filter(current.q("paid_at"), distributor__isnull=False)
        .values("distributor_id", "distributor__user__username", "distributor__invite_code")
        .annotate(amount=Sum("payable_amount"), orders=Count("pk"))
        .order_by("-amount", "distributor_id")[:10]
    )
    funnel = {
        "visits": _scoped(ShareVisit.objects.filter(current.q("first_at")), merchant).count(),
        "bound_customers": members["now"],
        "orders_placed": orders.filter(current.q("created_at"), distributor__isnull=False).count(),
        "orders_paid": orders.filter(current.q("paid_at"), distributor__isnull=False).count(),
    }

    def money(value: Decimal) -> str:
        return f"{value:.2f}"

    def figure(value: Decimal | int) -> str | int:
        return money(value) if isinstance(value, Decimal) else value

    return {
        "merchant": merchant.pk if merchant else None,
        "days": days,
        "period": {"start": current.start.isoformat(), "end": current.end.isoformat()},
        "previous_period": {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "kpis": {
            name: {
                "value": figure(value),
                "previous": figure(old),
                "change_percent": _change(value, old),
            }
            for name, (value, old) in kpis.items()
        },
        "daily": {
            "days": [day.isoformat() for day in days_list],
            "paid_amount": [money(daily_money.get(day, ZERO)) for day in days_list],
            "orders": [daily_orders.get(day, 0) for day in days_list],
        },
        "top_products": [
            {"name": row["product_name"], "amount": money(row["amount"]), "units": row["units"]}
            for row in top_products
        ],
        "top_distributors": [
            {
                "name": row["distributor__user__username"],
                "code": row["distributor__invite_code"],
                "amount": money(row["amount"]),
                "orders": row["orders"],
            }
            for row in top_distributors
        ],
        "channel": {
            "distributors": money(counts["through_distributors"]),
            "direct": money(counts["direct"]),
        },
        "funnel": funnel,
    }


def per_merchant(*, days: int) -> list[dict[str, Any]]:
    """The operator's table: paid amount and orders per merchant over the window (two queries)."""
    period = Window(days=days, today=timezone.localdate()).current
    money_rows = dict(
        Journal.objects.filter(period.q(), kind=Kind.PAYMENT)
        .values("merchant_id")
        .annotate(amount=STATEMENT_FIGURES["payments_in"]())
        .values_list("merchant_id", "amount")
    )
    order_rows = dict(
        Order.objects.filter(period.q("paid_at"))
        .values("merchant_id")
        .annotate(count=Count("pk"))
        .values_list("merchant_id", "count")
    )
    merchants = Merchant.objects.order_by("name").values_list("pk", "name")
    return [
        {
            "merchant": pk,
            "name": name,
            "paid_amount": f"{money_rows.get(pk, ZERO):.2f}",
            "orders": order_rows.get(pk, 0),
        }
        for pk, name in merchants
    ]


def distributor_commission_daily(*, distributor_id: int, days: int = 30) -> list[dict[str, Any]]:
    """A distributor's commission earned per day over the last ``days`` days (what it keeps:
    amount less what refunds took back), for the small chart on their earnings page. One query."""
    from apps.commissions.models import CommissionRecord

    period = Window(days=days, today=timezone.localdate()).current
    earned = dict(
        CommissionRecord.objects.filter(period.q(), beneficiary_id=distributor_id)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(kept=Sum(F("amount") - F("reversed_amount")))
        .values_list("day", "kept")
    )
    values = [earned.get(period.start + timedelta(days=n), ZERO) for n in range(days)]
    top = max(values, default=ZERO) or Decimal("1")
    return [
        {
            "day": (period.start + timedelta(days=n)).isoformat(),
            "amount": f"{value:.2f}",
            # Bar height in a 60-unit-high chart, and where it starts from the top.
            "bar": int(value * 60 / top),
            "top": 60 - int(value * 60 / top),
        }
        for n, value in enumerate(values)
    ]
