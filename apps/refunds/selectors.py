from django.db.models import Exists, OuterRef, Q

from .models import RefundCase, RefundCaseLine


def refund_case_open_on_line(*, order_line_id: int) -> bool:
    """Whether a refund case on this order line is requested, approved or refunding."""
    return RefundCaseLine.objects.filter(
        order_line_id=order_line_id, case__status__in=RefundCase.OPEN_STATUSES
    ).exists()


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
