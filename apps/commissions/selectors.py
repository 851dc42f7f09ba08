from decimal import Decimal

from django.db.models import QuerySet, Sum

from apps.distributors.models import Distributor

from .models import CommissionRecord, CommissionReversal


def commission_records_for(*, distributor: Distributor) -> "QuerySet[CommissionRecord]":
    return (
        CommissionRecord.objects.filter(
            merchant_id=distributor.merchant_id, beneficiary=distributor
        )
        .select_related("order", "order_line")
        .order_by("-id")
    )


def commission_reversed_total(*, distributor: Distributor) -> Decimal:
    """What refunds have taken back from the distributor's commission, in all."""
    total = CommissionReversal.objects.filter(
        merchant_id=distributor.merchant_id, beneficiary=distributor
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")
