"""Loading what the commission calculation (``calculation.py``) needs, for any number of orders of
one merchant in a fixed number of queries: the plan and its bonus tiers, the overrides, who of the
upline snapshot is paid, the level-1 distributor's month-to-date sales.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from apps.core.money import ZERO
from apps.distributors.models import Distributor, ProgrammeSettings
from apps.orders.models import Order, OrderLine

from .calculation import (
    Beneficiary,
    LineInput,
    OrderInputs,
    OverrideRates,
    Overrides,
    PlanRates,
)
from .models import BonusTier, CommissionOverride, CommissionPlan


def payable_chain(
    *,
    chain: Iterable[tuple[int, int]],
    distributors: Mapping[int, tuple[int, str]],
    customer_id: int,
    self_purchase: bool,
) -> list[tuple[int, int]]:
    """(level, distributor id) of the snapshot that are paid. The chain ends below the buyer (the
    same rule as at placement, again for orders snapshotted before it) — except the buyer's own
    profile at level 1 when self-purchase commission is on. A suspended distributor earns nothing
    while its level stays its own."""
    payable = []
    for level, pk in chain:
        user_id, status = distributors[pk]
        if user_id == customer_id and not (self_purchase and level == 1):
            break
        if status == Distributor.Status.ACTIVE:
            payable.append((level, pk))
    return payable


def plan_rates_from(
    plan: CommissionPlan, bonus_tiers: Iterable[tuple[Decimal, Decimal]]
) -> PlanRates:
    return PlanRates(
        level_percents=dict(plan.level_percents),
        max_total_percent=plan.max_total_percent,
        bonus_tiers=tuple(sorted(bonus_tiers)),
        is_enabled=plan.is_enabled,
        freeze_days=plan.freeze_days,
        plan_id=plan.pk,
    )


def plan_rates_for(*, merchant_id: int) -> PlanRates | None:
    """The merchant's plan and its bonus tiers (2 queries), None when it has no plan."""
    plan = CommissionPlan.objects.filter(merchant_id=merchant_id).first()
    if plan is None:
        return None
    tiers = BonusTier.objects.filter(merchant_id=merchant_id, plan=plan).values_list(
        "monthly_sales_threshold", "extra_percent"
    )
    return plan_rates_from(plan, tiers)


def overrides_for(
    *, merchant_id: int, sku_ids: Iterable[int], product_ids: Iterable[int]
) -> Overrides:
    rows = CommissionOverride.objects.filter(merchant_id=merchant_id).filter(
        Q(sku_id__in=set(sku_ids)) | Q(product_id__in=set(product_ids))
    )
    by_sku, by_product = {}, {}
    for row in rows:
        rates = OverrideRates(id=row.pk, mode=row.mode, values=row.level_values)
        if row.sku_id is not None:
            by_sku[row.sku_id] = rates
        else:
            assert row.product_id is not None
            by_product[row.product_id] = rates
    return Overrides(by_sku=by_sku, by_product=by_product)


def _month_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def level1_monthly_sales(
    *, merchant_id: int, orders: Sequence[tuple[int, int, datetime]]
) -> dict[int, Decimal]:
    """Order id → its level-1 distributor's sales in the calendar month of the order's completion,
    up to and including the order ((completed at, id) order), for (order id, level-1 distributor
    id, completed at) triples. One query, whatever the number of orders."""
    if not orders:
        return {}
    distributor_ids = {distributor_id for _order, distributor_id, _at in orders}
    since = min(_month_start(at) for _order, _distributor, at in orders)
    until = max(at for _order, _distributor, at in orders)
    rows = (
        Order.objects.filter(
            merchant_id=merchant_id,
            status=Order.Status.COMPLETED,
            distributor_id__in=distributor_ids,
            completed_at__gte=since,
            completed_at__lte=until,
        )
        .annotate(sales=Sum("lines__paid_amount"))
        .order_by("completed_at", "id")
        .values_list("id", "distributor_id", "completed_at", "sales")
    )
    running: dict[tuple[int, datetime], Decimal] = defaultdict(lambda: ZERO)
    to_date: dict[int, Decimal] = {}
    for order_id, distributor_id, completed_at, sales in rows:
        assert completed_at is not None  # filtered on a range of it
        key = (distributor_id, _month_start(completed_at))
        running[key] += sales or ZERO
        to_date[order_id] = running[key]
    return {order_id: to_date.get(order_id, ZERO) for order_id, _distributor, _at in orders}


@dataclass(frozen=True)
class CommissionInputs:
    plan: PlanRates | None
    overrides: Overrides
    orders: Mapping[int, OrderInputs]


def commission_inputs_load(
    *,
    merchant_id: int,
    orders: Sequence[Order],
    settings: ProgrammeSettings,
    plan: PlanRates | None,
) -> CommissionInputs:
    """Everything ``commission_lines_compute`` needs for these orders of one merchant, in at most
    four queries (lines, distributors with their tiers, overrides, month sales)."""
    order_ids = [order.pk for order in orders]
    lines_by_order: dict[int, list[LineInput]] = defaultdict(list)
    for row in (
        OrderLine.objects.filter(merchant_id=merchant_id, order_id__in=order_ids)
        .order_by("id")
        .values_list(
            "order_id",
            "id",
            "sku_id",
            "product_id",
            "quantity",
            "paid_amount",
            "agency_distributor_id",
            "agency_unit_cost",
        )
    ):
        lines_by_order[row[0]].append(LineInput(*row[1:]))
    distributor_ids = {pk for order in orders for _level, pk in order.beneficiary_ids} | {
        line.agency_distributor_id
        for lines in lines_by_order.values()
        for line in lines
        if line.agency_distributor_id is not None
    }
    distributors = (
        {
            row.pk: row
            for row in Distributor.objects.filter(merchant_id=merchant_id, pk__in=distributor_ids)
            .select_related("tier")
            .only(
                "pk",
                "user_id",
                "status",
                "tier__id",
                "tier__level1_percent",
                "tier__level2_percent",
                "tier__level3_percent",
            )
        }
        if distributor_ids
        else {}
    )
    identity = {pk: (row.user_id, row.status) for pk, row in distributors.items()}
    self_purchase = settings.self_purchase_commission
    chains = {
        order.pk: payable_chain(
            chain=order.beneficiary_ids,
            distributors=identity,
            customer_id=order.customer_id,
            self_purchase=self_purchase,
        )
        for order in orders
    }
    overrides = (
        overrides_for(
            merchant_id=merchant_id,
            sku_ids={line.sku_id for lines in lines_by_order.values() for line in lines},
            product_ids={line.product_id for lines in lines_by_order.values() for line in lines},
        )
        if lines_by_order and plan is not None and plan.is_enabled
        else Overrides()
    )
    sales: dict[int, Decimal] = {}
    if plan is not None and plan.is_enabled and plan.bonus_tiers:
        sales = level1_monthly_sales(
            merchant_id=merchant_id,
            orders=[
                (order.pk, chains[order.pk][0][1], order.completed_at)
                for order in orders
                if chains[order.pk]
                and chains[order.pk][0][0] == 1
                and order.completed_at is not None
            ],
        )
    inputs = {}
    for order in orders:
        beneficiaries = []
        for level, pk in chains[order.pk]:
            tier = distributors[pk].tier
            beneficiaries.append(
                Beneficiary(
                    level=level,
                    distributor_id=pk,
                    tier_id=tier.pk if tier else None,
                    tier_percents=dict(tier.level_percents) if tier else {},
                )
            )
        margin_payable = frozenset(
            line.agency_distributor_id
            for line in lines_by_order[order.pk]
            if line.agency_distributor_id is not None
            and identity[line.agency_distributor_id][1] == Distributor.Status.ACTIVE
            and (self_purchase or identity[line.agency_distributor_id][0] != order.customer_id)
        )
        inputs[order.pk] = OrderInputs(
            order_id=order.pk,
            beneficiaries=beneficiaries,
            lines=lines_by_order[order.pk],
            level1_monthly_sales=sales.get(order.pk, ZERO),
            margin_payable=margin_payable,
        )
    return CommissionInputs(plan=plan, overrides=overrides, orders=inputs)
