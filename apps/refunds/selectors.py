from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.merchants.models import Merchant
from apps.payments.models import Payment

from .models import RefundCase, RefundCaseLine


def refund_case_open_on_line(*, order_line_id: int) -> bool:
    """Whether a refund case on this order line is requested, approved or refunding."""
    return RefundCaseLine.objects.filter(
        order_line_id=order_line_id, case__status__in=RefundCase.OPEN_STATUSES
    ).exists()


def refund_case_open_on_order(*, order_id: int) -> bool:
    """Whether any refund case of the order is requested, approved or refunding."""
    return RefundCase.objects.filter(
        order_id=order_id, status__in=RefundCase.OPEN_STATUSES
    ).exists()


def orders_with_open_refund_case() -> Q:
    """Filter for orders with a refund case requested, approved or refunding."""
    return Q(
        Exists(
            RefundCase.objects.filter(order_id=OuterRef("pk"), status__in=RefundCase.OPEN_STATUSES)
        )
    )


def order_refunded_amount() -> Coalesce:
    """Per order (``OuterRef("pk")`` of an Order queryset): what its refunded cases gave back,
    shipping included (0.00 when nothing)."""
    refunded = (
        RefundCase.objects.filter(order_id=OuterRef("pk"), status=RefundCase.Status.REFUNDED)
        .order_by()
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(
        Subquery(refunded, output_field=money), Value(Decimal("0.00")), output_field=money
    )


def records_with_open_refund_case() -> Q:
    """Filter for commission records whose order line has an open refund case."""
    return Q(
        Exists(
            RefundCaseLine.objects.filter(
                order_line_id=OuterRef("order_line_id"),
                case__status__in=RefundCase.OPEN_STATUSES,
            )
        )
    )


@dataclass(frozen=True)
class RefundRate:
    distributor_id: int
    paid: Decimal
    refunded: Decimal

    @property
    def rate(self) -> Decimal:
        """refunded / paid, to four places (0.2500 = a quarter refunded)."""
        if self.paid <= 0:
            return Decimal("0.0000")
        return (self.refunded / self.paid).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def refund_rate_by_distributor(*, merchant: Merchant, since: datetime) -> dict[int, RefundRate]:
    """Per level-1 distributor: what their orders paid since ``since`` (by the order's payment
    time) and how much of that was refunded (a fraud signal: orders placed to earn commission,
    then refunded). Two queries."""
    paid_rows = (
        Payment.objects.filter(
            merchant=merchant,
            status=Payment.Status.SUCCEEDED,
            order__paid_at__gte=since,
            order__distributor__isnull=False,
        )
        .values("order__distributor_id")
        .annotate(total=Sum("amount"))
    )
    paid = {row["order__distributor_id"]: row["total"] for row in paid_rows}
    refunded_rows = (
        RefundCase.objects.filter(
            merchant=merchant,
            status=RefundCase.Status.REFUNDED,
            payment__status=Payment.Status.SUCCEEDED,
            order__paid_at__gte=since,
            order__distributor_id__in=list(paid),
        )
        .values("order__distributor_id")
        .annotate(total=Sum("amount"))
    )
    refunded = {row["order__distributor_id"]: row["total"] for row in refunded_rows}
    return {
        distributor_id: RefundRate(
            distributor_id=distributor_id,
            paid=total,
            refunded=refunded.get(distributor_id, Decimal("0.00")),
        )
        for distributor_id, total in paid.items()
    }
