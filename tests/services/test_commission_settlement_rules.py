"""The commission rules through the real settlement service: overrides, tiers, the monthly bonus,
self-purchase and the agency margin, as stored records that explain themselves."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.commissions.models import BonusTier, CommissionOverride, CommissionPlan, CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.distributors.models import Distributor, ProgrammeSettings, Tier
from apps.ledger.models import Wallet
from apps.orders.models import Order, OrderLine
from tests.factories import SkuFactory

from .flows import bind, completed_order

D = Decimal


def rows(order):
    return list(
        CommissionRecord.objects.filter(order=order)
        .order_by("order_line_id", "kind", "level")
        .values_list(
            "beneficiary_id", "level", "kind", "rule", "quantity", "rate_percent", "amount"
        )
    )


@pytest.fixture
def bound(merchant, customer, chain):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    return customer


def test_overrides_tiers_and_defaults_per_level_through_settlement(merchant, bound, chain):
    # Given a SKU with a fixed level-1 amount, its product with a level-2 percent, and the level-3
    # distributor in a tier paying 3 %
    sku = SkuFactory(product__merchant=merchant, price=D("40.00"))
    CommissionOverride.objects.create(
        merchant=merchant, sku=sku, mode="fixed", level1_value=D("1.50")
    )
    CommissionOverride.objects.create(
        merchant=merchant, product=sku.product, mode="percent", level2_value=D("7.00")
    )
    gold = Tier.objects.create(merchant=merchant, name="Gold", rank=2, level3_percent=D("3.00"))
    Distributor.objects.filter(pk=chain[1].pk).update(tier=gold)
    order = completed_order(merchant=merchant, customer=bound, lines=[(sku, 3)])

    assert commission_settle_orders(order_id=order.pk) == 3

    # 3 × 1.50 = 4.50; 7 % of 120.00 = 8.40; 3 % of 120.00 = 3.60
    assert rows(order) == [
        (chain[3].pk, 1, "commission", "sku_fixed", 3, D("0.00"), D("4.50")),
        (chain[2].pk, 2, "commission", "product_percent", 3, D("7.00"), D("8.40")),
        (chain[1].pk, 3, "commission", "tier", 3, D("3.00"), D("3.60")),
    ]
    tier_record = CommissionRecord.objects.get(order=order, level=3)
    assert tier_record.explanation["source_id"] == gold.pk
    assert tier_record.explanation["base"] == "120.00"


def _complete_at(order, moment):
    Order.objects.filter(pk=order.pk).update(completed_at=moment)


@pytest.mark.parametrize(
    ("earlier_price", "expected_rate", "expected_amount"),
    [
        ("950.00", D("12.00"), D("6.00")),  # 950 + 50 = 1000.00: reached exactly
        ("949.99", D("10.00"), D("5.00")),  # 999.99: not reached
    ],
)
def test_monthly_bonus_counts_the_months_sales_up_to_this_order(
    merchant, bound, chain, earlier_price, expected_rate, expected_amount
):
    plan = CommissionPlan.objects.get(merchant=merchant)
    BonusTier.objects.create(
        merchant=merchant, plan=plan, monthly_sales_threshold=D("1000.00"), extra_percent=D("2.00")
    )
    earlier = completed_order(
        merchant=merchant,
        customer=bound,
        lines=[(SkuFactory(product__merchant=merchant, price=D(earlier_price)), 1)],
    )
    last_month = completed_order(
        merchant=merchant,
        customer=bound,
        lines=[(SkuFactory(product__merchant=merchant, price=D("5000.00")), 1)],
    )
    order = completed_order(
        merchant=merchant,
        customer=bound,
        lines=[(SkuFactory(product__merchant=merchant, price=D("50.00")), 1)],
    )
    # Shanghai time: 1 March 00:30 is still February 28 16:30 UTC
    _complete_at(last_month, datetime(2025, 2, 28, 15, 59, tzinfo=UTC))
    _complete_at(earlier, datetime(2025, 2, 28, 16, 30, tzinfo=UTC))
    _complete_at(order, datetime(2025, 3, 20, 12, 0, tzinfo=UTC))

    commission_settle_orders(order_id=order.pk)

    record = CommissionRecord.objects.get(order=order, level=1)
    assert (record.rate_percent, record.amount) == (expected_rate, expected_amount)
    assert record.bonus_percent == expected_rate - D("10.00")


def test_a_later_order_of_the_month_does_not_count_for_an_earlier_one(merchant, bound, chain):
    plan = CommissionPlan.objects.get(merchant=merchant)
    BonusTier.objects.create(
        merchant=merchant, plan=plan, monthly_sales_threshold=D("100.00"), extra_percent=D("2.00")
    )
    sku = SkuFactory(product__merchant=merchant, price=D("60.00"))
    first = completed_order(merchant=merchant, customer=bound, lines=[(sku, 1)])
    second = completed_order(merchant=merchant, customer=bound, lines=[(sku, 1)])
    _complete_at(first, datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    _complete_at(second, datetime(2025, 3, 2, 12, 0, tzinfo=UTC))

    # settled in reverse order: the result does not depend on when settlement runs
    commission_settle_orders(order_id=second.pk)
    commission_settle_orders(order_id=first.pk)

    assert CommissionRecord.objects.get(order=first, level=1).amount == D("6.00")  # 60: 10 %
    assert CommissionRecord.objects.get(order=second, level=1).amount == D("7.20")  # 120: 12 %


def _buyer_snapshot(merchant, chain, on):
    """A distributor (chain[3]) buying for themselves, the snapshot starting at them."""
    ProgrammeSettings.objects.create(merchant=merchant, self_purchase_commission=on)
    buyer = chain[3].user
    sku = SkuFactory(product__merchant=merchant, price=D("100.00"))
    order = completed_order(merchant=merchant, customer=buyer, lines=[(sku, 1)])
    Order.objects.filter(pk=order.pk).update(
        distributor=chain[3],
        level2_distributor=chain[2],
        level3_distributor=chain[1],
        commission_status=Order.CommissionStatus.PENDING,
    )
    return order


def test_self_purchase_on_pays_the_buyers_own_profile_at_level_1(merchant, chain):
    order = _buyer_snapshot(merchant, chain, on=True)

    assert commission_settle_orders(order_id=order.pk) == 3

    assert [(pk, level, amount) for pk, level, _k, _r, _q, _p, amount in rows(order)] == [
        (chain[3].pk, 1, D("10.00")),
        (chain[2].pk, 2, D("5.00")),
        (chain[1].pk, 3, D("2.00")),
    ]


def test_self_purchase_off_never_pays_the_buyer(merchant, chain):
    order = _buyer_snapshot(merchant, chain, on=False)

    assert commission_settle_orders(order_id=order.pk) == 0

    assert rows(order) == []


def test_agency_line_pays_a_margin_record_beside_the_commission(merchant, bound, chain):
    sku = SkuFactory(product__merchant=merchant, price=D("60.00"))
    order = completed_order(merchant=merchant, customer=bound, lines=[(sku, 2)])
    OrderLine.objects.filter(order=order).update(
        agency_distributor=chain[3], agency_unit_cost=D("45.00")
    )

    assert commission_settle_orders(order_id=order.pk) == 4

    # 10 / 5 / 2 % of 120.00, and 120.00 − 2 × 45.00 = 30.00 for the same level-1 distributor
    assert rows(order) == [
        (chain[3].pk, 1, "commission", "default", 2, D("10.00"), D("12.00")),
        (chain[2].pk, 2, "commission", "default", 2, D("5.00"), D("6.00")),
        (chain[1].pk, 3, "commission", "default", 2, D("2.00"), D("2.40")),
        (chain[3].pk, 1, "margin", "agency_margin", 2, D("0.00"), D("30.00")),
    ]
    margin = CommissionRecord.objects.get(order=order, kind="margin")
    assert margin.unit_amount == D("45.00")
    assert margin.explanation["cost"] == "90.00"
    assert Wallet.objects.get(distributor=chain[3]).frozen == D("42.00")


def test_one_record_per_line_beneficiary_level_and_kind(merchant, bound, chain):
    sku = SkuFactory(product__merchant=merchant, price=D("60.00"))
    order = completed_order(merchant=merchant, customer=bound, lines=[(sku, 1)])
    commission_settle_orders(order_id=order.pk)
    record = CommissionRecord.objects.get(order=order, level=1)

    record.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()
    record.pk, record.kind, record.level = None, "margin", 2
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()  # a margin is paid at level 1 only


def test_settlement_reads_the_rules_in_the_same_number_of_queries_for_1_or_3_lines(
    merchant, bound, chain
):
    plan = CommissionPlan.objects.get(merchant=merchant)
    BonusTier.objects.create(
        merchant=merchant, plan=plan, monthly_sales_threshold=D("1.00"), extra_percent=D("1.00")
    )
    skus = [SkuFactory(product__merchant=merchant, price=D("10.00")) for _ in range(3)]
    one = completed_order(merchant=merchant, customer=bound, lines=[(skus[0], 1)])
    three = completed_order(merchant=merchant, customer=bound, lines=[(sku, 2) for sku in skus])

    with CaptureQueriesContext(connection) as for_one:
        assert commission_settle_orders(order_id=one.pk) == 3
    with CaptureQueriesContext(connection) as for_three:
        assert commission_settle_orders(order_id=three.pk) == 9

    assert len(for_one) == len(for_three)
