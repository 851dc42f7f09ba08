"""The rule simulator: what the last N days of completed orders would have paid under a proposed
commission plan, next to what they did pay. Reads only; reuses ``apps.commissions.calculation``.

"Did pay" is the commission records of those orders as they stand (cancelled ones left out, refund
reductions included); "would pay" applies the proposed plan — and the proposed bonus tiers, when
given — with today's overrides, tiers, suspensions and self-purchase setting to the same orders.
Agency margins are left out of both: they do not depend on the plan. A beneficiary's tier is the
one they hold now.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import NotFound
from apps.core.money import HUNDRED, ZERO, NotTwoPlaces, parse_two_places
from apps.distributors.models import Tier
from apps.distributors.selectors import programme_settings_for
from apps.merchants.models import Merchant
from apps.orders.models import Order

from .calculation import PlanRates, commission_lines_compute
from .calculation_inputs import commission_inputs_load
from .models import BonusTier, CommissionPlan, CommissionRecord
from .services import CommissionPlanInvalid, commission_plan_check

DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_BONUS_TIERS = 20


@dataclass(frozen=True)
class Comparison:
    actual: Decimal
    proposed: Decimal

    @property
    def difference(self) -> Decimal:
        return self.proposed - self.actual


@dataclass(frozen=True)
class TierComparison(Comparison):
    tier_id: int | None
    tier_name: str


@dataclass(frozen=True)
class LevelComparison(Comparison):
    level: int


@dataclass(frozen=True)
class Simulation:
    days: int
    since: Any
    orders: int
    total: Comparison
    levels: list[LevelComparison]
    tiers: list[TierComparison]


def _bonus_tiers(value: Any) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_BONUS_TIERS:
        raise CommissionPlanInvalid(
            _("Bonus tiers are a list of at most %(max)d thresholds.") % {"max": MAX_BONUS_TIERS},
            code="invalid_bonus_tiers",
            field="bonus_tiers",
        )
    tiers: dict[Decimal, Decimal] = {}
    for item in value:
        try:
            threshold = parse_two_places(item["monthly_sales_threshold"])
            extra = parse_two_places(item["extra_percent"])
        except (NotTwoPlaces, KeyError, TypeError) as error:
            raise CommissionPlanInvalid(
                _("Each bonus tier needs a monthly sales threshold and an extra percent."),
                code="invalid_bonus_tiers",
                field="bonus_tiers",
            ) from error
        if threshold <= ZERO or not ZERO < extra <= HUNDRED or threshold in tiers:
            raise CommissionPlanInvalid(
                _(
                    "Bonus thresholds are positive and distinct; extra percents are above 0 "
                    "and at most 100."
                ),
                code="invalid_bonus_tiers",
                field="bonus_tiers",
            )
        tiers[threshold] = extra
    return tuple(sorted(tiers.items()))


def commission_plan_proposal(*, plan: CommissionPlan, proposed: dict[str, Any]) -> PlanRates:
    """The proposed plan as rules: given settings merged over the current plan, checked like a
    saved plan; ``bonus_tiers`` (a list of {monthly_sales_threshold, extra_percent}) replaces the
    current bonus tiers when given."""
    names = ("level1_percent", "level2_percent", "level3_percent", "max_total_percent")
    merged = {name: proposed.get(name, getattr(plan, name)) for name in names}
    cleaned = commission_plan_check(**merged, freeze_days=plan.freeze_days)
    if "bonus_tiers" in proposed:
        bonus = _bonus_tiers(proposed["bonus_tiers"])
    else:
        bonus = tuple(
            sorted(
                BonusTier.objects.filter(merchant_id=plan.merchant_id, plan=plan).values_list(
                    "monthly_sales_threshold", "extra_percent"
                )
            )
        )
    enabled = proposed.get("is_enabled", plan.is_enabled)
    if not isinstance(enabled, bool):
        raise CommissionPlanInvalid(
            _("“Enabled” is yes or no."), code="invalid_is_enabled", field="is_enabled"
        )
    return PlanRates(
        level_percents={n: cleaned[f"level{n}_percent"] for n in (1, 2, 3)},
        max_total_percent=cleaned["max_total_percent"],
        bonus_tiers=bonus,
        is_enabled=enabled,
        freeze_days=plan.freeze_days,
        plan_id=plan.pk,
    )


def commission_plan_simulate(
    *, merchant: Merchant, proposed: dict[str, Any], days: int = DEFAULT_DAYS, now=None
) -> Simulation:
    """Compare what the orders completed in the last ``days`` days paid with what they would pay
    under ``proposed`` (see ``commission_plan_proposal``). Writes nothing; a fixed number of
    queries whatever the number of orders."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise CommissionPlanInvalid(
            _("Days must be a whole number from 1 to %(max)d.") % {"max": MAX_DAYS},
            code="invalid_days",
            field="days",
        )
    plan = CommissionPlan.objects.filter(merchant=merchant).first()
    if plan is None:
        raise NotFound(_("This merchant has no commission plan."), code="no_commission_plan")
    rates = commission_plan_proposal(plan=plan, proposed=proposed)
    now = now or timezone.now()
    since = now - timedelta(days=days)
    orders = list(
        Order.objects.filter(
            merchant=merchant,
            status=Order.Status.COMPLETED,
            completed_at__gte=since,
            completed_at__lte=now,
        ).only(
            "pk",
            "customer_id",
            "completed_at",
            "distributor_id",
            "level2_distributor_id",
            "level3_distributor_id",
        )
    )
    inputs = commission_inputs_load(
        merchant_id=merchant.pk,
        orders=orders,
        settings=programme_settings_for(merchant=merchant),
        plan=rates,
    )
    tier_of: dict[int, int | None] = {}
    proposed_levels: dict[int, Decimal] = defaultdict(lambda: ZERO)
    proposed_tiers: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for order_inputs in inputs.orders.values():
        for beneficiary in order_inputs.beneficiaries:
            tier_of[beneficiary.distributor_id] = beneficiary.tier_id
        for spec in commission_lines_compute(
            order=order_inputs, plan=inputs.plan, overrides=inputs.overrides
        ):
            if spec.kind != CommissionRecord.Kind.COMMISSION:
                continue
            proposed_levels[spec.level] += spec.amount
            proposed_tiers[tier_of[spec.beneficiary_id]] += spec.amount
    paid = (
        CommissionRecord.objects.filter(
            merchant=merchant,
            kind=CommissionRecord.Kind.COMMISSION,
            order__status=Order.Status.COMPLETED,
            order__completed_at__gte=since,
            order__completed_at__lte=now,
        )
        .exclude(status=CommissionRecord.Status.CANCELLED)
        .values_list("level", "beneficiary__tier_id")
        .annotate(total=Sum("amount"))
    )
    actual_levels: dict[int, Decimal] = defaultdict(lambda: ZERO)
    actual_tiers: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for level, tier_id, total in paid:
        actual_levels[level] += total
        actual_tiers[tier_id] += total
    names = dict(Tier.objects.filter(merchant=merchant).values_list("pk", "name"))
    tier_ids = sorted(set(actual_tiers) | set(proposed_tiers), key=lambda pk: (pk is not None, pk))
    return Simulation(
        days=days,
        since=since,
        orders=len(orders),
        total=Comparison(
            actual=sum(actual_levels.values(), ZERO), proposed=sum(proposed_levels.values(), ZERO)
        ),
        levels=[
            LevelComparison(level=n, actual=actual_levels[n], proposed=proposed_levels[n])
            for n in (1, 2, 3)
        ],
        tiers=[
            TierComparison(
                tier_id=pk,
                tier_name=names.get(pk, "") if pk is not None else str(_("No tier")),
                actual=actual_tiers[pk],
                proposed=proposed_tiers[pk],
            )
            for pk in tier_ids
        ],
    )
