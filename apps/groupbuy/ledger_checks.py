"""Group buying in the ledger's check (``manage.py ledger_check``):

- an open or full group holds exactly its unpaid and paid members' seats, and counts its paid ones;
- a group never holds more members than its size;
- commission exists only on the orders of groups that filled, and a full group's orders are no
  longer held back from shipping;
- a refunded member was given back exactly what their order paid, and a failed group keeps no
  paid member without a refund once it has been closed for a while (the closing job's work).
"""

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.commissions.models import CommissionRecord
from apps.ledger.checks import ledger_check, merchant_scope
from apps.orders.models import OrderHold
from apps.refunds.models import RefundCase

from .models import Group, GroupMember

G = Group.Status
M = GroupMember.Status
# Longer than beat's interval and a provider's refund confirmation: a failed group still showing
# paid members after this was missed by the closing job.
CLOSING_GRACE = timedelta(hours=1)


@ledger_check
def _seats_match_members(merchant_id: int | None) -> Iterator[str]:
    groups = (
        Group.objects.filter(merchant_scope(merchant_id))
        .annotate(
            seated=Count("members", filter=Q(members__status__in=(M.PENDING, M.PAID))),
            paid=Count("members", filter=Q(members__status=M.PAID)),
        )
        .values_list("pk", "status", "size", "seats_taken", "paid_count", "seated", "paid")
    )
    for pk, status, size, taken, paid_count, seated, paid in groups:
        if seated > size:
            yield f"group {pk}: {seated} members seated in a group of {size}"
        if status in (G.OPEN, G.FULL) and (taken, paid_count) != (seated, paid):
            yield (
                f"group {pk} ({status}): seats {taken} taken / {paid_count} paid, "
                f"members {seated} seated / {paid} paid"
            )


@ledger_check
def _commission_only_on_filled_groups(merchant_id: int | None) -> Iterator[str]:
    unfilled = GroupMember.objects.filter(merchant_scope(merchant_id)).exclude(group__status=G.FULL)
    for order_id in (
        CommissionRecord.objects.filter(order_id__in=unfilled.values("order_id"))
        .values_list("order_id", flat=True)
        .distinct()
    ):
        yield f"order {order_id}: commission on a group that did not fill"
    for order_id in OrderHold.objects.filter(
        reason=OrderHold.Reason.GROUP_BUY,
        order_id__in=GroupMember.objects.filter(
            merchant_scope(merchant_id), group__status=G.FULL, status=M.PAID
        ).values("order_id"),
    ).values_list("order_id", flat=True):
        yield f"order {order_id}: its group is full but it is still held back from shipping"


@ledger_check
def _failed_groups_refunded(merchant_id: int | None) -> Iterator[str]:
    refunded = dict(
        RefundCase.objects.filter(
            merchant_scope(merchant_id),
            status=RefundCase.Status.REFUNDED,
            order_id__in=GroupMember.objects.filter(status=M.REFUNDED).values("order_id"),
        )
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    for pk, order_id, paid in GroupMember.objects.filter(
        merchant_scope(merchant_id), status=M.REFUNDED
    ).values_list("pk", "order_id", "order__payable_amount"):
        if refunded.get(order_id) != paid:
            yield f"group member {pk}: order {order_id} paid {paid}, refunded {refunded.get(order_id)}"
    cutoff = timezone.now() - CLOSING_GRACE
    for pk, group_id in GroupMember.objects.filter(
        merchant_scope(merchant_id),
        status=M.PAID,
        group__status=G.FAILED,
        group__closed_at__lte=cutoff,
    ).values_list("pk", "group_id"):
        yield f"group member {pk}: paid in failed group {group_id} and never refunded"
