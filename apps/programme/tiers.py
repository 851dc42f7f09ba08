"""Tiers (等级): upgrade and keep conditions, their evaluation, and what is missing for the next.

Metrics, each over a rolling period of ``period_days`` ending at ``now`` (``now − N days`` excluded,
``now`` included):

- own sales amount / own order count: completed orders (amount paid less what refunds gave back;
  an order refunded in full no longer counts) whose level-1 distributor is the distributor;
- team sales amount / team order count: completed orders whose level-1 distributor is anyone below
  the distributor in the tree, at any depth (the tree interval ``lft``/``rght``: correct also when
  the numbering has gaps);
- direct recruits: distributors who joined directly under the distributor.

``tier_evaluate`` upgrades to the highest tier above the current one whose upgrade conditions hold
(all or any, per tier); otherwise, when the current tier's keep conditions fail, it goes down one
step. A tier without upgrade conditions is never reached automatically; one without keep conditions
is kept for ever. Every change is a compare-and-swap on the distributor's tier plus a ``TierChange``.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.money import ZERO
from apps.distributors.models import Combinator, Distributor, Tier, TierChange, TierCondition
from apps.orders.models import Order
from apps.refunds.selectors import order_refunded_amount

M = TierCondition.Metric
MetricKey = tuple[str, int]  # (metric, period_days)


def tier_metrics(
    *, distributor: Distributor, keys: Iterable[MetricKey], now: datetime | None = None
) -> dict[MetricKey, Decimal]:
    """The value of each (metric, period) for the distributor at ``now``: one query per period."""
    now = now or timezone.now()
    values: dict[MetricKey, Decimal] = {}
    periods = sorted({days for _metric, days in keys})
    own = Q(distributor_id=distributor.pk)
    # The node's place as it is now (an instance read earlier may predate joins below it).
    place = Distributor.objects.filter(pk=distributor.pk).values("tree_id", "lft", "rght").get()
    team = Q(
        distributor__tree_id=place["tree_id"],
        distributor__lft__gt=place["lft"],
        distributor__rght__lt=place["rght"],
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    for days in periods:
        since = now - timedelta(days=days)
        sales = (
            Order.objects.filter(
                merchant_id=distributor.merchant_id,
                status=Order.Status.COMPLETED,
                completed_at__gt=since,
                completed_at__lte=now,
            )
            .annotate(kept=F("payable_amount") - order_refunded_amount())
            .aggregate(
                own_amount=Coalesce(Sum("kept", filter=own), Value(ZERO), output_field=money),
                own_count=Count("id", filter=own & Q(kept__gt=0)),
                team_amount=Coalesce(Sum("kept", filter=team), Value(ZERO), output_field=money),
                team_count=Count("id", filter=team & Q(kept__gt=0)),
            )
        )
        recruits = Distributor.objects.filter(
            merchant_id=distributor.merchant_id,
            parent_id=distributor.pk,
            joined_at__gt=since,
            joined_at__lte=now,
        ).count()
        values[(M.OWN_SALES_AMOUNT, days)] = sales["own_amount"]
        values[(M.OWN_ORDER_COUNT, days)] = Decimal(sales["own_count"])
        values[(M.TEAM_SALES_AMOUNT, days)] = sales["team_amount"]
        values[(M.TEAM_ORDER_COUNT, days)] = Decimal(sales["team_count"])
        values[(M.DIRECT_RECRUITS, days)] = Decimal(recruits)
    return {key: values[key] for key in keys}


def _holds(
    conditions: list[TierCondition], combinator: str, values: dict[MetricKey, Decimal]
) -> bool:
    if not conditions:
        return False
    met = [values[(c.metric, c.period_days)] >= c.threshold for c in conditions]
    return all(met) if combinator == Combinator.ALL else any(met)


def _split(tier: Tier) -> tuple[list[TierCondition], list[TierCondition]]:
    conditions = list(tier.conditions.all())
    return (
        [c for c in conditions if c.purpose == TierCondition.Purpose.UPGRADE],
        [c for c in conditions if c.purpose == TierCondition.Purpose.KEEP],
    )


def _tiers_of(merchant_id: int) -> list[Tier]:
    return list(Tier.objects.filter(merchant_id=merchant_id).prefetch_related("conditions"))


def _describe(conditions: list[TierCondition], values: dict[MetricKey, Decimal]) -> str:
    return "; ".join(
        f"{c.get_metric_display()} {values[(c.metric, c.period_days)]} "
        f"{'≥' if values[(c.metric, c.period_days)] >= c.threshold else '<'} {c.threshold} "
        f"({c.period_days}d)"
        for c in conditions
    )


def tier_evaluate(*, distributor_id: int, now: datetime | None = None) -> TierChange | None:
    """Move the distributor to the tier its figures earn (see the module docstring); the change
    made, or None. Harmless to run twice, and concurrently (compare-and-swap on the tier)."""
    now = now or timezone.now()
    distributor = Distributor.objects.filter(pk=distributor_id).first()
    if distributor is None:
        return None
    tiers = _tiers_of(distributor.merchant_id)
    if not tiers:
        return None
    by_id = {tier.pk: tier for tier in tiers}
    split = {tier.pk: _split(tier) for tier in tiers}
    keys = {(c.metric, c.period_days) for up, keep in split.values() for c in up + keep}
    if not keys:
        return None
    values = tier_metrics(distributor=distributor, keys=keys, now=now)
    current = by_id.get(distributor.tier_id) if distributor.tier_id else None
    target: Tier | None
    reachable = [
        tier
        for tier in tiers
        if (current is None or tier.rank > current.rank)
        and _holds(split[tier.pk][0], tier.upgrade_combinator, values)
    ]
    if reachable:
        target = max(reachable, key=lambda tier: tier.rank)
        reason = _("Upgraded: %(figures)s") % {"figures": _describe(split[target.pk][0], values)}
    elif (
        current is not None
        and split[current.pk][1]
        and not _holds(split[current.pk][1], current.keep_combinator, values)
    ):
        below = [tier for tier in tiers if tier.rank < current.rank]
        target = max(below, key=lambda tier: tier.rank) if below else None
        reason = _("Downgraded: keep conditions not met: %(figures)s") % {
            "figures": _describe(split[current.pk][1], values)
        }
    else:
        return None
    with transaction.atomic():
        changed = Distributor.objects.filter(pk=distributor.pk, tier_id=distributor.tier_id).update(  # type: ignore[misc]
            tier=target, tier_since=now
        )
        if not changed:
            return None  # a concurrent evaluation moved it first
        return TierChange.objects.create(
            merchant_id=distributor.merchant_id,
            distributor=distributor,
            from_tier=current,
            to_tier=target,
            reason=reason[:255],
            metrics={f"{metric}/{days}d": str(value) for (metric, days), value in values.items()},
            created_at=now,
        )


def tiers_evaluate_all(*, batch_size: int = 500, now: datetime | None = None) -> int:
    """Evaluate every distributor of every merchant that has tier conditions, in pk batches."""
    changed = 0
    merchant_ids = (
        TierCondition.objects.order_by("merchant_id")
        .values_list("merchant_id", flat=True)
        .distinct()
    )
    for merchant_id in list(merchant_ids):
        last = 0
        while True:
            batch = list(
                Distributor.objects.filter(merchant_id=merchant_id, pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            for distributor_id in batch:
                changed += tier_evaluate(distributor_id=distributor_id, now=now) is not None
            last = batch[-1]
    return changed


# --- What is missing for the next tier --------------------------------------------------------


@dataclass(frozen=True)
class ConditionProgress:
    metric: str
    label: str
    period_days: int
    value: Decimal
    threshold: Decimal
    missing: Decimal
    met: bool
    text: str


@dataclass(frozen=True)
class TierProgress:
    current: Tier | None
    next_tier: Tier | None
    combinator: str = Combinator.ALL
    conditions: list[ConditionProgress] = field(default_factory=list)


def _missing_text(condition: TierCondition, missing: Decimal) -> str:
    if missing <= 0:
        return _("reached")
    shown = str(missing) if condition.is_amount else str(int(missing.to_integral_value()))
    texts = {
        M.OWN_SALES_AMOUNT: _("¥%(missing)s more own sales in %(days)d days"),
        M.OWN_ORDER_COUNT: _("%(missing)s more own orders in %(days)d days"),
        M.TEAM_SALES_AMOUNT: _("¥%(missing)s more team sales in %(days)d days"),
        M.TEAM_ORDER_COUNT: _("%(missing)s more team orders in %(days)d days"),
        M.DIRECT_RECRUITS: _("%(missing)s more direct recruits in %(days)d days"),
    }
    return texts[M(condition.metric)] % {"missing": shown, "days": condition.period_days}


def tier_progress(*, distributor: Distributor, now: datetime | None = None) -> TierProgress:
    """The distributor's tier and, for the next tier up that can be reached, each upgrade
    condition with the figure so far and what is missing."""
    tiers = _tiers_of(distributor.merchant_id)
    current = next((tier for tier in tiers if tier.pk == distributor.tier_id), None)
    above = [
        tier for tier in tiers if (current is None or tier.rank > current.rank) and _split(tier)[0]
    ]
    if not above:
        return TierProgress(current=current, next_tier=None)
    next_tier = min(above, key=lambda tier: tier.rank)
    upgrade = _split(next_tier)[0]
    values = tier_metrics(
        distributor=distributor, keys={(c.metric, c.period_days) for c in upgrade}, now=now
    )
    items = []
    for condition in upgrade:
        value = values[(condition.metric, condition.period_days)]
        missing = max(condition.threshold - value, ZERO)
        items.append(
            ConditionProgress(
                metric=condition.metric,
                label=condition.get_metric_display(),
                period_days=condition.period_days,
                value=value,
                threshold=condition.threshold,
                missing=missing,
                met=missing <= 0,
                text=_missing_text(condition, missing),
            )
        )
    return TierProgress(
        current=current,
        next_tier=next_tier,
        combinator=next_tier.upgrade_combinator,
        conditions=items,
    )
