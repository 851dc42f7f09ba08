"""The rule simulator: the last N days of completed orders under a proposed plan, against what they
paid, per level and per distributor tier."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.commissions.models import CommissionPlan, CommissionRecord
from apps.commissions.services import CommissionPlanInvalid, commission_settle_orders
from apps.commissions.simulation import commission_plan_simulate
from apps.distributors.models import Distributor, Tier
from apps.orders.models import Order
from tests.factories import SkuFactory

from .flows import bind, completed_order

D = Decimal
NOW = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)
PROPOSED = {"level1_percent": "12.00", "level2_percent": "5.00", "level3_percent": "1.00"}


@pytest.fixture
def history(merchant, customer, chain):
    """Settled orders of 100.00 (completed 30 March), 50.00 (2 March) and 1000.00 (28 February,
    31 days before NOW); chain[2] (level 2) is Gold."""
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    gold = Tier.objects.create(merchant=merchant, name="Gold", rank=2)
    Distributor.objects.filter(pk=chain[2].pk).update(tier=gold)
    orders = []
    for price, age in (("100.00", 1), ("50.00", 29), ("1000.00", 31)):
        sku = SkuFactory(product__merchant=merchant, price=D(price))
        order = completed_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
        commission_settle_orders(order_id=order.pk)
        Order.objects.filter(pk=order.pk).update(completed_at=NOW - timedelta(days=age))
        orders.append(order)
    return gold


def test_simulation_compares_per_level_and_tier(merchant, history):
    before = list(CommissionRecord.objects.order_by("id").values())

    result = commission_plan_simulate(merchant=merchant, proposed=PROPOSED, days=30, now=NOW)

    # paid: 10/5/2 % of 150.00 = 15.00 / 7.50 / 3.00; proposed 12/5/1 % = 18.00 / 7.50 / 1.50
    assert result.orders == 2
    assert [(row.level, row.actual, row.proposed, row.difference) for row in result.levels] == [
        (1, D("15.00"), D("18.00"), D("3.00")),
        (2, D("7.50"), D("7.50"), D("0.00")),
        (3, D("3.00"), D("1.50"), D("-1.50")),
    ]
    assert [(row.tier_name, row.actual, row.proposed) for row in result.tiers] == [
        ("No tier", D("18.00"), D("19.50")),
        ("Gold", D("7.50"), D("7.50")),
    ]
    assert (result.total.actual, result.total.proposed, result.total.difference) == (
        D("25.50"),
        D("27.00"),
        D("1.50"),
    )
    assert list(CommissionRecord.objects.order_by("id").values()) == before
    assert CommissionPlan.objects.get(merchant=merchant).level1_percent == D("10.00")


def test_simulation_with_proposed_bonus_tiers(merchant, history):
    result = commission_plan_simulate(
        merchant=merchant,
        proposed={"bonus_tiers": [{"monthly_sales_threshold": "100.00", "extra_percent": "2.00"}]},
        days=30,
        now=NOW,
    )

    # March: the 50.00 order (2 March) brings the month to 50.00, no bonus: 5.00; the 100.00 one
    # (30 March) to 150.00 ≥ 100.00: 12 % = 12.00
    assert (result.levels[0].actual, result.levels[0].proposed) == (D("15.00"), D("17.00"))


def test_days_choose_the_orders(merchant, history):
    assert commission_plan_simulate(merchant=merchant, proposed={}, days=2, now=NOW).orders == 1
    result = commission_plan_simulate(merchant=merchant, proposed={}, days=60, now=NOW)
    assert result.orders == 3
    assert result.total.actual == result.total.proposed == D("195.50")  # 17 % of 1150.00


@pytest.mark.parametrize(
    ("proposed", "days", "code"),
    [
        ({"level1_percent": "30.00"}, 30, "levels_over_cap"),
        ({"level1_percent": "abc"}, 30, "invalid_percent"),
        (
            {"bonus_tiers": [{"monthly_sales_threshold": "0", "extra_percent": "1"}]},
            30,
            "invalid_bonus_tiers",
        ),
        ({"bonus_tiers": "many"}, 30, "invalid_bonus_tiers"),
        ({}, 0, "invalid_days"),
        ({}, True, "invalid_days"),
    ],
)
def test_bad_proposals_are_refused(merchant, proposed, days, code):
    with pytest.raises(CommissionPlanInvalid) as error:
        commission_plan_simulate(merchant=merchant, proposed=proposed, days=days)
    assert error.value.code == code


def test_simulation_queries_do_not_grow_with_orders(merchant, customer, chain):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    sku = SkuFactory(product__merchant=merchant, price=D("10.00"))
    completed_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    with CaptureQueriesContext(connection) as one:
        commission_plan_simulate(merchant=merchant, proposed=PROPOSED, days=30)
    for _ in range(3):
        completed_order(merchant=merchant, customer=customer, lines=[(sku, 2)])
    with CaptureQueriesContext(connection) as four:
        assert commission_plan_simulate(merchant=merchant, proposed=PROPOSED, days=30).orders == 4
    assert len(one) == len(four)
