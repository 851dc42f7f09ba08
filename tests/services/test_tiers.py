"""Tier conditions: metrics over rolling periods, AND vs OR, upgrades, downgrades, history, and
what is missing for the next tier."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.distributors.models import Distributor, Tier, TierChange, TierCondition
from apps.distributors.services import distributor_join
from apps.orders.models import Order
from apps.programme.tiers import tier_evaluate, tier_metrics, tier_progress, tiers_evaluate_all
from tests.factories import SkuFactory, UserFactory
from tests.services.flows import bind, completed_order

M = TierCondition.Metric


def condition(tier, metric, threshold, purpose="upgrade", days=30):
    return TierCondition.objects.create(
        merchant_id=tier.merchant_id,
        tier=tier,
        purpose=purpose,
        metric=metric,
        threshold=Decimal(threshold),
        period_days=days,
    )


@pytest.fixture
def tiers(merchant):
    silver = Tier.objects.create(merchant=merchant, name="Silver", rank=1)
    gold = Tier.objects.create(merchant=merchant, name="Gold", rank=2)
    return silver, gold


@pytest.fixture
def sale(merchant):
    """sale(distributor, amount): a completed order of ``amount`` through ``distributor``."""
    skus: dict[Decimal, object] = {}

    def make(distributor, amount, completed_at=None):
        amount = Decimal(amount)
        if amount not in skus:
            skus[amount] = SkuFactory(product__merchant=merchant, price=amount)
        buyer = UserFactory()
        bind(merchant=merchant, customer=buyer, distributor=distributor)
        order = completed_order(merchant=merchant, customer=buyer, lines=[(skus[amount], 1)])
        if completed_at is not None:
            Order.objects.filter(pk=order.pk).update(completed_at=completed_at)
        return order

    return make


def test_metrics_own_team_and_recruits(merchant, chain, sale):
    sale(chain[1], "100.00")
    sale(chain[2], "40.00")
    sale(chain[3], "10.00")
    sale(chain[0], "7.00")  # above chain[1]: neither own nor team
    keys = {(metric, 30) for metric in M.values}

    values = tier_metrics(distributor=chain[1], keys=keys)

    assert values == {
        (M.OWN_SALES_AMOUNT, 30): Decimal("100.00"),
        (M.OWN_ORDER_COUNT, 30): Decimal(1),
        (M.TEAM_SALES_AMOUNT, 30): Decimal("50.00"),
        (M.TEAM_ORDER_COUNT, 30): Decimal(2),
        (M.DIRECT_RECRUITS, 30): Decimal(1),
    }


def test_upgrade_when_the_threshold_is_reached_exactly(merchant, chain, tiers, sale):
    silver, _gold = tiers
    condition(silver, M.OWN_SALES_AMOUNT, "300.00")
    sale(chain[0], "200.00")
    assert tier_evaluate(distributor_id=chain[0].pk) is None

    sale(chain[0], "100.00")  # 300.00 exactly
    change = tier_evaluate(distributor_id=chain[0].pk)

    assert change is not None
    assert (change.from_tier, change.to_tier) == (None, silver)
    assert change.metrics == {"own_sales_amount/30d": "300.00"}
    assert "300.00" in change.reason
    chain[0].refresh_from_db()
    assert chain[0].tier == silver and chain[0].tier_since is not None
    assert tier_evaluate(distributor_id=chain[0].pk) is None  # twice changes nothing
    assert TierChange.objects.count() == 1


def test_upgrade_skips_to_the_highest_tier_reached(merchant, chain, tiers, sale):
    silver, gold = tiers
    condition(silver, M.OWN_ORDER_COUNT, "1")
    condition(gold, M.OWN_ORDER_COUNT, "2")
    sale(chain[0], "1.00")
    sale(chain[0], "1.00")
    change = tier_evaluate(distributor_id=chain[0].pk)
    assert (change.from_tier, change.to_tier) == (None, gold)


@pytest.mark.parametrize(("combinator", "upgraded"), [("all", False), ("any", True)])
def test_and_versus_or(merchant, chain, tiers, sale, combinator, upgraded):
    silver, _gold = tiers
    Tier.objects.filter(pk=silver.pk).update(upgrade_combinator=combinator)
    condition(silver, M.OWN_SALES_AMOUNT, "50.00")  # met
    condition(silver, M.DIRECT_RECRUITS, "2")  # not met: one recruit
    sale(chain[0], "50.00")

    change = tier_evaluate(distributor_id=chain[0].pk)

    assert (change is not None) is upgraded


def test_downgrade_one_step_when_keep_conditions_fail(merchant, chain, tiers, sale):
    silver, gold = tiers
    condition(gold, M.TEAM_ORDER_COUNT, "2", purpose="keep")
    Distributor.objects.filter(pk=chain[0].pk).update(tier=gold)
    sale(chain[2], "5.00")

    change = tier_evaluate(distributor_id=chain[0].pk)

    assert (change.from_tier, change.to_tier) == (gold, silver)
    assert change.reason.startswith("Downgraded")
    assert change.metrics == {"team_order_count/30d": "1"}
    # Silver has no keep conditions: it is kept
    assert tier_evaluate(distributor_id=chain[0].pk) is None


def test_rolling_period_boundary(merchant, chain, tiers, sale):
    silver, _gold = tiers
    condition(silver, M.OWN_ORDER_COUNT, "1", days=7)
    now = timezone.now()
    order = sale(chain[0], "9.00", completed_at=now - timedelta(days=7))  # exactly 7 days ago: out
    assert tier_evaluate(distributor_id=chain[0].pk, now=now) is None

    Order.objects.filter(pk=order.pk).update(
        completed_at=now - timedelta(days=7) + timedelta(microseconds=1)
    )
    assert tier_evaluate(distributor_id=chain[0].pk, now=now).to_tier == silver


def test_recruits_count_only_within_the_period(merchant, chain, tiers):
    silver, _gold = tiers
    condition(silver, M.DIRECT_RECRUITS, "2", days=30)
    late = distributor_join(merchant=merchant, user=UserFactory(), invite_code=chain[0].invite_code)
    Distributor.objects.filter(pk=late.pk).update(joined_at=timezone.now() - timedelta(days=31))
    assert tier_evaluate(distributor_id=chain[0].pk) is None
    distributor_join(merchant=merchant, user=UserFactory(), invite_code=chain[0].invite_code)
    assert tier_evaluate(distributor_id=chain[0].pk).to_tier == silver


def test_progress_says_what_is_missing(merchant, chain, tiers, sale):
    silver, _gold = tiers
    condition(silver, M.OWN_SALES_AMOUNT, "500.00")
    condition(silver, M.DIRECT_RECRUITS, "1")
    sale(chain[0], "180.00")

    progress = tier_progress(distributor=chain[0])

    assert (progress.current, progress.next_tier, progress.combinator) == (None, silver, "all")
    assert [(item.missing, item.met, item.text) for item in progress.conditions] == [
        (Decimal("320.00"), False, "¥320.00 more own sales in 30 days"),
        (Decimal("0"), True, "reached"),
    ]


def test_sweep_evaluates_every_distributor_of_merchants_with_conditions(
    merchant, other_merchant, chain, tiers
):
    silver, _gold = tiers
    condition(silver, M.DIRECT_RECRUITS, "1")
    distributor_join(merchant=other_merchant, user=UserFactory())

    assert tiers_evaluate_all(batch_size=2) == 3  # chain[0..2] each have one recruit
    assert set(Distributor.objects.filter(tier=silver).values_list("pk", flat=True)) == {
        chain[0].pk,
        chain[1].pk,
        chain[2].pk,
    }


def test_completion_and_joins_enqueue_evaluation_only_with_conditions(
    merchant, chain, tiers, sale, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as without:
        sale(chain[3], "1.00")
    condition(tiers[0], M.OWN_ORDER_COUNT, "1")
    with django_capture_on_commit_callbacks() as with_conditions:
        sale(chain[3], "1.00")
    with django_capture_on_commit_callbacks() as joined:
        distributor_join(merchant=merchant, user=UserFactory(), invite_code=chain[3].invite_code)
    assert len(with_conditions) == len(without) + 1
    assert len(joined) == 1
