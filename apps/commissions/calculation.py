"""The commission arithmetic: who earns how much from an order line, and why.

``commission_lines_compute`` is pure: given the loaded inputs it returns one ``RecordSpec`` per
record to create, each carrying its own explanation. ``calculation_inputs.commission_inputs_load``
loads those inputs for any number of orders of one merchant in a fixed number of queries, so that
settlement and the rule simulator (thousands of orders) share every rule.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from apps.core.money import CENT, HUNDRED, ZERO, quantize_money

from .models import CommissionOverride, CommissionRecord

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
