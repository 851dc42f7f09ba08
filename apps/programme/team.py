"""团队: a distributor's downline (levels 1–3), its members' sales and recruits, the whole subtree.

Every read here costs a fixed number of queries whatever the team's size. Subtrees are found by
their nested-set interval (``tree_id``, ``lft__gt``, ``rght__lt``) and counted with COUNT: the
numbering may have gaps, so ``(rght - lft) / 2`` is never used as a size.

**Sales** (used here and by the leaderboards) of a distributor: the sum of ``OrderLine.paid_amount``
(what the consumer paid for the goods, after discounts, without shipping) over the orders whose
level-1 distributor (``Order.distributor``) they are and that are paid and not cancelled (status
paid, shipped or completed), counted at the time of payment (``Order.paid_at``).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from apps.core.money import ZERO
from apps.distributors.models import Distributor
from apps.orders.models import Order, OrderLine

SALE_STATUSES = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED)
TEAM_DEPTH = 3


def sales_lines(*, merchant_id: int, since: datetime | None = None) -> "QuerySet[OrderLine]":
    """The order lines that count as sales (see the module's docstring), paid since ``since``."""
    lines = OrderLine.objects.filter(
        merchant_id=merchant_id,
        order__status__in=SALE_STATUSES,
        order__distributor__isnull=False,
    )
    if since is not None:
        lines = lines.filter(order__paid_at__gte=since)
    return lines


def _sales_of_outer(*, merchant_id: int, since: datetime | None) -> Coalesce:
    per_distributor = (
        sales_lines(merchant_id=merchant_id, since=since)
        .filter(order__distributor=OuterRef("pk"))
        .order_by()
        .values("order__distributor")
        .annotate(total=Sum("paid_amount"))
        .values("total")[:1]
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(per_distributor, output_field=money), Value(ZERO), output_field=money)


def _subtree(distributor: Distributor) -> "QuerySet[Distributor]":
    return Distributor.objects.filter(
        merchant_id=distributor.merchant_id,
        tree_id=distributor.tree_id,
        lft__gt=distributor.lft,
        rght__lt=distributor.rght,
    )


@dataclass(frozen=True)
class TeamSummary:
    team_size: int  # everyone below, at any depth
    level_counts: dict[int, int]  # relative level 1–3 → members


def team_summary(*, distributor: Distributor) -> TeamSummary:
    """The whole subtree's size and the count per level 1–3: one query."""
    counts = _subtree(distributor).aggregate(
        total=Count("id"),
        **{
            f"level{relative}": Count("id", filter=Q(level=distributor.level + relative))
            for relative in range(1, TEAM_DEPTH + 1)
        },
    )
    return TeamSummary(
        team_size=counts["total"],
        level_counts={
            relative: counts[f"level{relative}"] for relative in range(1, TEAM_DEPTH + 1)
        },
    )


def team_members(
    *, distributor: Distributor, relative_level: int, since: datetime | None
) -> "QuerySet[Distributor]":
    """Members at ``relative_level`` (1–3) below ``distributor``, oldest first, each annotated with

    - ``recruits``: their direct invitees (all time), ``recruits_in_period`` (joined since ``since``);
    - ``sales_in_period`` (since ``since``; all time when None) and ``sales_total``;
    - ``subtree_size``: everyone below them.

    One query (correlated subqueries, no joins that multiply rows).
    """
    if relative_level not in range(1, TEAM_DEPTH + 1):
        raise ValueError(f"relative_level must be 1–{TEAM_DEPTH}")
    children = Distributor.objects.filter(parent=OuterRef("pk")).order_by().values("parent")
    recruits = children.annotate(n=Count("id")).values("n")[:1]
    recruits_in_period = (
        (children.filter(joined_at__gte=since) if since else children)
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    below = (
        Distributor.objects.filter(
            tree_id=OuterRef("tree_id"), lft__gt=OuterRef("lft"), rght__lt=OuterRef("rght")
        )
        .order_by()  # the tree manager orders by (tree_id, lft): that would split the groups
        .values("tree_id")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    number = IntegerField()
    return (
        _subtree(distributor)
        .filter(level=distributor.level + relative_level)
        .select_related("user")
        .annotate(
            recruits=Coalesce(Subquery(recruits, output_field=number), 0),
            recruits_in_period=Coalesce(Subquery(recruits_in_period, output_field=number), 0),
            subtree_size=Coalesce(Subquery(below, output_field=number), 0),
            sales_in_period=_sales_of_outer(merchant_id=distributor.merchant_id, since=since),
            sales_total=_sales_of_outer(merchant_id=distributor.merchant_id, since=None),
        )
        .order_by("joined_at", "id")
    )


def own_sales(*, distributor: Distributor, since: datetime | None) -> Decimal:
    total = (
        sales_lines(merchant_id=distributor.merchant_id, since=since)
        .filter(order__distributor=distributor)
        .aggregate(total=Sum("paid_amount"))["total"]
    )
    return total if total is not None else ZERO
