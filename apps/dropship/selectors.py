"""Reads of drop-shipping that need care."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

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
