"""Reads of drop-shipping that need care."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.commissions.models import CommissionRecord
from apps.core.money import ZERO
from apps.merchants.models import Merchant
from apps.orders.models import Order
from apps.payments.models import Payment
from apps.refunds.models import RefundCase

from .models import SupplyShare

MONEY = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class OrderMargin:
    order_id: int
    number: str
    revenue: Decimal  # what the consumer paid, less refunds
    supply_cost: Decimal  # what the suppliers keep: supply price × quantity less refunds they bore
    commission: Decimal  # commission records net of what refunds took back
    platform_fee: Decimal
    margin: Decimal


def _summed(queryset, field: str):  # type: ignore[no-untyped-def]
    return Coalesce(
        Subquery(
            queryset.values("order_id").annotate(total=Sum(field)).values("total")[:1],
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def order_margins(*, merchant: Merchant, limit: int = 100) -> list[OrderMargin]:
    """The store's paid orders, newest first, each with revenue, supply cost, commission,
    platform fee and what is left (one query, whatever the number of orders)."""
    orders = (
        Order.objects.filter(merchant=merchant, paid_at__isnull=False)
        .annotate(
            supply_cost=_summed(
                SupplyShare.objects.filter(order_id=OuterRef("pk")).annotate(
                    cost=F("amount") - F("reversed_amount")
                ),
                "cost",
            ),
            commission=_summed(
                CommissionRecord.objects.filter(order_id=OuterRef("pk")).annotate(
                    net=F("amount") - F("reversed_amount")
                ),
                "net",
            ),
            fee=_summed(
                Payment.objects.filter(order_id=OuterRef("pk"), status=Payment.Status.SUCCEEDED),
                "platform_fee",
            ),
            refunded=_summed(
                RefundCase.objects.filter(
                    order_id=OuterRef("pk"), status=RefundCase.Status.REFUNDED
                ),
                "amount",
            ),
        )
        .order_by("-id")[:limit]
    )
    margins = []
    for order in orders:
        revenue = order.payable_amount - order.refunded
        margin = revenue - order.supply_cost - order.commission - order.fee
        margins.append(
            OrderMargin(
                order.pk,
                order.number,
                revenue,
                order.supply_cost,
                order.commission,
                order.fee,
                margin,
            )
        )
    return margins


# --- Owed to suppliers (the store's side of 供应商货款) -----------------------------------------


@dataclass(frozen=True)
class Owed:
    """A store's sales owe a supplier, by where the money stands (what refunds left of each share)."""

    frozen: Decimal  # frozen, the after-sale window still open (or the order not completed)
    releasable: Decimal  # frozen, the window closed: beat releases it unless a case is open
    released: Decimal  # in the supplier's available balance (withdrawn since, or not)
    reversed: Decimal  # taken back by the refunds the supplier bore

    @property
    def total(self) -> Decimal:
        return self.frozen + self.releasable + self.released


@dataclass(frozen=True)
class SupplierOwed:
    merchant_id: int
    store: str
    supplier_id: int
    supplier: str
    orders: int
    owed: Owed


def _owed_sums(now: datetime) -> dict[str, Any]:
    kept = F("amount") - F("reversed_amount")
    frozen = Q(status=SupplyShare.Status.FROZEN)
    due = frozen & Q(release_at__lte=now)
    waiting = frozen & (Q(release_at__isnull=True) | Q(release_at__gt=now))
    return {
        "frozen_sum": Sum(kept, filter=waiting, default=ZERO, output_field=MONEY),
        "releasable_sum": Sum(kept, filter=due, default=ZERO, output_field=MONEY),
        "released_sum": Sum(
            kept, filter=Q(status=SupplyShare.Status.RELEASED), default=ZERO, output_field=MONEY
        ),
        "reversed_sum": Sum("reversed_amount", default=ZERO, output_field=MONEY),
    }


def _owed(row: Mapping[str, Any]) -> Owed:
    return Owed(
        frozen=row["frozen_sum"],
        releasable=row["releasable_sum"],
        released=row["released_sum"],
        reversed=row["reversed_sum"],
    )


def owed_to_suppliers(
    *, shares: QuerySet[SupplyShare], now: datetime | None = None
) -> list[SupplierOwed]:
    """Per store and supplier, what the shares in ``shares`` (the caller's scoped rows: one
    store's for its staff) owe, by store and supplier name. One query."""
    rows = (
        shares.order_by()
        .values("merchant_id", "merchant__name", "supplier_id", "supplier__name")
        .annotate(orders=Count("order_id", distinct=True), **_owed_sums(now or timezone.now()))
        .order_by("merchant__name", "merchant_id", "supplier__name", "supplier_id")
    )
    return [
        SupplierOwed(
            merchant_id=row["merchant_id"],
            store=row["merchant__name"],
            supplier_id=row["supplier_id"],
            supplier=row["supplier__name"],
            orders=row["orders"],
            owed=_owed(row),
        )
        for row in rows
    ]


def owed_total(owed: list[Owed]) -> Owed:
    return Owed(
        frozen=sum((o.frozen for o in owed), ZERO),
        releasable=sum((o.releasable for o in owed), ZERO),
        released=sum((o.released for o in owed), ZERO),
        reversed=sum((o.reversed for o in owed), ZERO),
    )
