"""The commission arithmetic: who earns how much from an order line, and why.

``commission_lines_compute`` is pure: given the loaded inputs it returns one ``RecordSpec`` per
record to create, each carrying its own explanation. ``commission_inputs_load`` loads those inputs
for any number of orders of one merchant in a fixed number of queries, so that settlement (one
order) and the rule simulator (thousands) share every rule.

The rules, per order line and per paid level 1–3 (most specific first, each source may leave a
level empty and let it fall through to the next):

1. the SKU's override, 2. the product's override — each a fixed amount per unit or a percent;
3. the beneficiary's tier percent for that level (the tier the distributor holds at settlement);
4. the merchant's default percent for that level (the commission plan).

- Base: what was paid for the line (``OrderLine.paid_amount``: after discounts, without shipping).
- Fixed amounts multiply by the quantity and never exceed the line's paid amount.
- Performance bonus (阶梯): the level-1 distributor's sales in the calendar month (local time) of
  the order's completion, counted up to and including this order (paid amounts of completed orders
  where they are level 1), choose the highest bonus tier whose threshold is reached (≥); its extra
  percent is added to the level-1 *percent* rate. Fixed amounts get no bonus.
- Cap: the plan's ``max_total_percent`` of the line's base bounds what all levels take together.
  Levels take their share in order 1, 2, 3, so the deepest give way first; a fixed amount counts
  as its equivalent share of the base.
- Each record is rounded down to the cent.
- Agency margin (差价): the line's paid amount minus the purchase price × quantity, when positive,
  for the line's agency distributor — besides (not under) the percent commission, which is
  computed on the paid amount like any other line. It is the distributor's own resale margin, so
  the plan's cap and an off switch of the plan do not apply to it.
- Who is paid: the order's upline snapshot. The chain ends below the buyer, except that with
  self-purchase commission (自购返佣) on, the buyer's own profile is paid at level 1. A suspended
  distributor earns nothing (its level stays its own).

Rates are read at settlement, not snapshotted at placement: the bonus depends on the month's sales
at completion, which placement cannot know; a merchant can correct a wrong rate before orders
complete; and every record stores the rule, the values and the base it used (``explanation``), so
history stays explained when the rules change later. Beneficiaries, prices and the agency cost are
snapshotted at placement (they decide who is owed, not how much per rule).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone

from apps.core.money import CENT, HUNDRED, ZERO, quantize_money
from apps.distributors.models import Distributor, ProgrammeSettings
from apps.orders.models import Order, OrderLine

from .models import BonusTier, CommissionOverride, CommissionPlan, CommissionRecord

MAX_LEVELS = 3
LEVELS = (1, 2, 3)
Rule = CommissionRecord.Rule
Kind = CommissionRecord.Kind


@dataclass(frozen=True)
class PlanRates:
    """The plan's part of the rules: default percents, the cap, the bonus tiers."""

    level_percents: Mapping[int, Decimal]
    max_total_percent: Decimal
    bonus_tiers: tuple[tuple[Decimal, Decimal], ...] = ()  # (monthly sales threshold, extra %)
    is_enabled: bool = True
    freeze_days: int = 7
    plan_id: int | None = None

    def bonus_for(self, monthly_sales: Decimal) -> tuple[Decimal, Decimal | None]:
        """(extra percent, threshold reached) of the highest tier reached, else (0, None)."""
        reached = [tier for tier in self.bonus_tiers if monthly_sales >= tier[0]]
        if not reached:
            return ZERO, None
        threshold, extra = max(reached, key=lambda tier: (tier[1], tier[0]))
        return extra, threshold


@dataclass(frozen=True)
class OverrideRates:
    id: int
    mode: str  # CommissionOverride.Mode
    values: Mapping[int, Decimal | None]


@dataclass(frozen=True)
class Overrides:
    by_sku: Mapping[int, OverrideRates] = field(default_factory=dict)
    by_product: Mapping[int, OverrideRates] = field(default_factory=dict)


@dataclass(frozen=True)
class Beneficiary:
    level: int
    distributor_id: int
    tier_id: int | None = None
    tier_percents: Mapping[int, Decimal | None] = field(default_factory=dict)


@dataclass(frozen=True)
class LineInput:
    id: int
    sku_id: int
    product_id: int
    quantity: int
    paid_amount: Decimal
    agency_distributor_id: int | None = None
    agency_unit_cost: Decimal | None = None


@dataclass(frozen=True)
class OrderInputs:
    """One order as the rules see it: its paid beneficiaries and lines, the level-1 distributor's
    month-to-date sales, and the agency distributors that may be paid a margin."""

    order_id: int
    beneficiaries: Sequence[Beneficiary]
    lines: Sequence[LineInput]
    level1_monthly_sales: Decimal = ZERO
    margin_payable: frozenset[int] = frozenset()


@dataclass(frozen=True)
class RecordSpec:
    order_line_id: int
    beneficiary_id: int
    level: int
    kind: str
    rule: str
    base_amount: Decimal
    quantity: int
    rate_percent: Decimal
    bonus_percent: Decimal
    unit_amount: Decimal | None
    amount: Decimal
    explanation: dict[str, Any]


def _round_down(value: Decimal) -> Decimal:
    return quantize_money(value, rounding=ROUND_DOWN)


def _text(value: Decimal) -> str:
    return str(value)


def _exact_money(value: Decimal) -> str:
    """An unrounded amount, with no zeros beyond the cents: 1.3500 → "1.35", 3.3330 → "3.333"."""
    normal = value.normalize()
    return str(normal if normal.as_tuple().exponent < -2 else value.quantize(CENT))  # type: ignore[operator]


def _source(
    *, level: int, line: LineInput, beneficiary: Beneficiary, plan: PlanRates, overrides: Overrides
) -> tuple[str, str, Decimal, int | None]:
    """(rule, mode, value, id of the row that set it) for one level of one line."""
    for override, fixed_rule, percent_rule in (
        (overrides.by_sku.get(line.sku_id), Rule.SKU_FIXED, Rule.SKU_PERCENT),
        (overrides.by_product.get(line.product_id), Rule.PRODUCT_FIXED, Rule.PRODUCT_PERCENT),
    ):
        if override is not None and override.values.get(level) is not None:
            value = override.values[level]
            assert value is not None
            if override.mode == CommissionOverride.Mode.FIXED:
                return fixed_rule, "fixed", value, override.id
            return percent_rule, "percent", value, override.id
    tier_percent = beneficiary.tier_percents.get(level)
    if tier_percent is not None:
        return Rule.TIER, "percent", tier_percent, beneficiary.tier_id
    return Rule.DEFAULT, "percent", plan.level_percents[level], plan.plan_id


def _commission_specs(
    *, order: OrderInputs, line: LineInput, plan: PlanRates, overrides: Overrides
) -> list[RecordSpec]:
    base = line.paid_amount
    cap_percent = min(plan.max_total_percent, HUNDRED)
    remaining = base * cap_percent / HUNDRED  # money the levels may still take, unrounded
    bonus, bonus_threshold = plan.bonus_for(order.level1_monthly_sales)
    specs = []
    for beneficiary in sorted(order.beneficiaries, key=lambda b: b.level):
        level = beneficiary.level
        if level > MAX_LEVELS:
            continue
        rule, mode, value, source_id = _source(
            level=level, line=line, beneficiary=beneficiary, plan=plan, overrides=overrides
        )
        explanation: dict[str, Any] = {
            "rule": str(rule),
            "source_id": source_id,
            "mode": mode,
            "value": _text(value),
            "base": _text(base),
            "quantity": line.quantity,
            "cap_percent": _text(cap_percent),
        }
        bonus_here = ZERO
        if mode == "fixed":
            gross = value * line.quantity
            wanted = min(gross, base)
            explanation["fixed_total"] = _text(gross)
            explanation["limited_to_base"] = gross > base
        else:
            if level == 1 and bonus > ZERO:
                bonus_here = bonus
                explanation["monthly_sales"] = _text(order.level1_monthly_sales)
                explanation["bonus_threshold"] = _text(bonus_threshold or ZERO)
                explanation["bonus_percent"] = _text(bonus)
            wanted = base * (value + bonus_here) / HUNDRED
        granted = min(wanted, max(remaining, ZERO))
        remaining -= granted
        trimmed = granted < wanted
        explanation["cap_trimmed"] = trimmed
        if trimmed:
            explanation["before_cap"] = _exact_money(wanted)
        amount = _round_down(granted)
        explanation["amount"] = _text(amount)
        if amount <= ZERO:
            continue
        if mode == "fixed":
            rate = ZERO
        elif trimmed:
            rate = (granted * HUNDRED / base).quantize(CENT, rounding=ROUND_DOWN)
        else:
            rate = value + bonus_here
        explanation["rate_percent"] = _text(rate)
        specs.append(
            RecordSpec(
                order_line_id=line.id,
                beneficiary_id=beneficiary.distributor_id,
                level=level,
                kind=Kind.COMMISSION,
                rule=rule,
                base_amount=base,
                quantity=line.quantity,
                rate_percent=rate,
                bonus_percent=bonus_here,
                unit_amount=value if mode == "fixed" else None,
                amount=amount,
                explanation=explanation,
            )
        )
    return specs


def _margin_spec(*, order: OrderInputs, line: LineInput) -> RecordSpec | None:
    distributor_id, unit_cost = line.agency_distributor_id, line.agency_unit_cost
    if distributor_id is None or unit_cost is None or distributor_id not in order.margin_payable:
        return None
    cost = unit_cost * line.quantity
    amount = _round_down(line.paid_amount - cost)
    if amount <= ZERO:
        return None
    return RecordSpec(
        order_line_id=line.id,
        beneficiary_id=distributor_id,
        level=1,
        kind=Kind.MARGIN,
        rule=Rule.AGENCY_MARGIN,
        base_amount=line.paid_amount,
        quantity=line.quantity,
        rate_percent=ZERO,
        bonus_percent=ZERO,
        unit_amount=unit_cost,
        amount=amount,
        explanation={
            "rule": str(Rule.AGENCY_MARGIN),
            "base": _text(line.paid_amount),
            "quantity": line.quantity,
            "unit_cost": _text(unit_cost),
            "cost": _text(cost),
            "amount": _text(amount),
        },
    )


def commission_lines_compute(
    *, order: OrderInputs, plan: PlanRates | None, overrides: Overrides
) -> list[RecordSpec]:
    """Every record the order's lines earn (commission per paid level, agency margin), in line
    order. ``plan`` None or disabled: margins only."""
    specs: list[RecordSpec] = []
    for line in order.lines:
        if plan is not None and plan.is_enabled:
            specs.extend(_commission_specs(order=order, line=line, plan=plan, overrides=overrides))
        margin = _margin_spec(order=order, line=line)
        if margin is not None:
            specs.append(margin)
    return specs


# --- loading --------------------------------------------------------------------------------


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
