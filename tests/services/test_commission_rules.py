"""The commission arithmetic, table-driven, with amounts computed by hand to the cent.

Every case is one order line paid through a three-level chain A (level 1) → B (2) → C (3) under a
plan of 10 / 5 / 2 % capped at 30 % unless the case says otherwise. Expected rows are
(level, rule, rate %, bonus %, amount); a level whose amount rounds to 0.00 makes no record.
"""

from decimal import Decimal

import pytest

from apps.commissions.calculation import (
    Beneficiary,
    LineInput,
    OrderInputs,
    OverrideRates,
    Overrides,
    PlanRates,
    commission_lines_compute,
)
from apps.commissions.calculation_inputs import payable_chain

D = Decimal
A, B, C = 101, 102, 103
SKU, PRODUCT = 7, 8
TIER_ID = 55


def plan(l1="10", l2="5", l3="2", cap="30", bonus=(), enabled=True) -> PlanRates:
    return PlanRates(
        level_percents={1: D(l1), 2: D(l2), 3: D(l3)},
        max_total_percent=D(cap),
        bonus_tiers=tuple((D(t), D(x)) for t, x in bonus),
        is_enabled=enabled,
        plan_id=1,
    )


def override(mode, l1=None, l2=None, l3=None, pk=1) -> OverrideRates:
    return OverrideRates(
        id=pk,
        mode=mode,
        values={n: None if v is None else D(v) for n, v in ((1, l1), (2, l2), (3, l3))},
    )


def tiers(**per_level):
    """Tier percents per level of the beneficiary: tiers(a={1: "12"}) → A's tier pays 12 % at L1."""
    return {
        key: {level: None if value is None else D(value) for level, value in levels.items()}
        for key, levels in per_level.items()
    }


def chain(tier_percents=None):
    tier_percents = tier_percents or {}
    return [
        Beneficiary(
            level=level,
            distributor_id=pk,
            tier_id=TIER_ID if name in tier_percents else None,
            tier_percents=tier_percents.get(name, {}),
        )
        for level, pk, name in ((1, A, "a"), (2, B, "b"), (3, C, "c"))
    ]


CASES = [
    # id, paid, quantity, plan, overrides, tier percents, monthly sales, expected
    (
        "default percents on a discounted line of 3 (30.00 listed, 27.00 paid)",
        "27.00",
        3,
        plan(),
        Overrides(),
        None,
        "0",
        [
            (1, "default", "10", "0", "2.70"),
            (2, "default", "5", "0", "1.35"),
            (3, "default", "2", "0", "0.54"),
        ],
    ),
    (
        "rounded down per record: 3 % of 33.33 = 0.9999 → 0.99",
        "33.33",
        1,
        plan("3", "0", "0"),
        Overrides(),
        None,
        "0",
        [(1, "default", "3", "0", "0.99")],
    ),
    (
        "rounded down on each level: 10/5/2 % of 33.33 = 3.333 / 1.6665 / 0.6666",
        "33.33",
        1,
        plan(),
        Overrides(),
        None,
        "0",
        [
            (1, "default", "10", "0", "3.33"),
            (2, "default", "5", "0", "1.66"),
            (3, "default", "2", "0", "0.66"),
        ],
    ),
    (
        "SKU fixed 2.50 × 3 = 7.50; the cap (30 % of 27.00 = 8.10) leaves 0.60 for level 2",
        "27.00",
        3,
        plan(),
        Overrides(by_sku={SKU: override("fixed", "2.50")}),
        None,
        "0",
        [(1, "sku_fixed", "0", "0", "7.50"), (2, "default", "2.22", "0", "0.60")],
    ),
    (
        "per level the most specific source: SKU % at 1, product fixed at 2, tier at 3",
        "100.00",
        2,
        plan(),
        Overrides(
            by_sku={SKU: override("percent", "8")},
            by_product={PRODUCT: override("fixed", "5.00", "1.00", pk=2)},
        ),
        tiers(c={3: "3"}),
        "0",
        [
            (1, "sku_percent", "8", "0", "8.00"),
            (2, "product_fixed", "0", "0", "2.00"),
            (3, "tier", "3", "0", "3.00"),
        ],
    ),
    (
        "product percent over the tier; a tier's empty level falls through to the default",
        "80.00",
        1,
        plan(),
        Overrides(by_product={PRODUCT: override("percent", None, None, "1")}),
        tiers(a={1: None, 2: "9"}, b={1: "9", 2: "6"}),
        "0",
        [
            (1, "default", "10", "0", "8.00"),
            (2, "tier", "6", "0", "4.80"),
            (3, "product_percent", "1", "0", "0.80"),
        ],
    ),
    (
        "a fixed amount never exceeds the line: 20.00 × 2 = 40.00 > 30.00 paid (cap 100 %)",
        "30.00",
        2,
        plan(cap="100"),
        Overrides(by_sku={SKU: override("fixed", "20.00")}),
        None,
        "0",
        [(1, "sku_fixed", "0", "0", "30.00")],
    ),
    (
        "bonus tier reached exactly: sales 1000.00 ≥ 1000 → +2 % at level 1",
        "50.00",
        1,
        plan(bonus=[("1000", "2"), ("5000", "3")]),
        Overrides(),
        None,
        "1000.00",
        [
            (1, "default", "12", "2", "6.00"),
            (2, "default", "5", "0", "2.50"),
            (3, "default", "2", "0", "1.00"),
        ],
    ),
    (
        "bonus tier not reached: sales 999.99 < 1000",
        "50.00",
        1,
        plan(bonus=[("1000", "2"), ("5000", "3")]),
        Overrides(),
        None,
        "999.99",
        [
            (1, "default", "10", "0", "5.00"),
            (2, "default", "5", "0", "2.50"),
            (3, "default", "2", "0", "1.00"),
        ],
    ),
    (
        "the highest bonus tier reached wins: sales 6000 → +3 %",
        "50.00",
        1,
        plan(bonus=[("1000", "2"), ("5000", "3")]),
        Overrides(),
        None,
        "6000.00",
        [
            (1, "default", "13", "3", "6.50"),
            (2, "default", "5", "0", "2.50"),
            (3, "default", "2", "0", "1.00"),
        ],
    ),
    (
        "bonus also on a tier percent at level 1: 15 + 2 % of 40.00",
        "40.00",
        1,
        plan(bonus=[("100", "2")]),
        Overrides(),
        tiers(a={1: "15"}),
        "100.00",
        [
            (1, "tier", "17", "2", "6.80"),
            (2, "default", "5", "0", "2.00"),
            (3, "default", "2", "0", "0.80"),
        ],
    ),
    (
        "fixed amounts get no bonus",
        "50.00",
        2,
        plan(bonus=[("1000", "2")]),
        Overrides(by_sku={SKU: override("fixed", "1.00")}),
        None,
        "5000.00",
        [
            (1, "sku_fixed", "0", "0", "2.00"),
            (2, "default", "5", "0", "2.50"),
            (3, "default", "2", "0", "1.00"),
        ],
    ),
    (
        "cap trims the deepest level first: tiers 20 + 8 + 5 = 33 % > 30 % → level 3 gets 2 %",
        "100.00",
        1,
        plan(),
        Overrides(),
        tiers(a={1: "20"}, b={2: "8"}, c={3: "5"}),
        "0",
        [
            (1, "tier", "20", "0", "20.00"),
            (2, "tier", "8", "0", "8.00"),
            (3, "tier", "2", "0", "2.00"),
        ],
    ),
    (
        "a bonus that crosses the cap trims levels 2 and 3: 13 + 5 + 2 > 17 %",
        "100.00",
        1,
        plan(cap="17", bonus=[("1", "3")]),
        Overrides(),
        None,
        "1.00",
        [(1, "default", "13", "3", "13.00"), (2, "default", "4", "0", "4.00")],
    ),
    (
        "fixed amounts count against the cap as their share: 9.00 of 30.00 fills 30 %",
        "30.00",
        1,
        plan(),
        Overrides(by_product={PRODUCT: override("fixed", "9.00")}),
        None,
        "0",
        [(1, "product_fixed", "0", "0", "9.00")],
    ),
    (
        "a line paid 0.00 (fully discounted) pays nobody",
        "0.00",
        2,
        plan(),
        Overrides(by_sku={SKU: override("fixed", "1.00")}),
        None,
        "0",
        [],
    ),
]


@pytest.mark.parametrize(
    ("paid", "quantity", "rates", "overrides", "tier_percents", "sales", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_commission_arithmetic(paid, quantity, rates, overrides, tier_percents, sales, expected):
    order = OrderInputs(
        order_id=1,
        beneficiaries=chain(tier_percents),
        lines=[
            LineInput(id=9, sku_id=SKU, product_id=PRODUCT, quantity=quantity, paid_amount=D(paid))
        ],
        level1_monthly_sales=D(sales),
    )

    specs = commission_lines_compute(order=order, plan=rates, overrides=overrides)

    assert [
        (spec.level, spec.rule, spec.rate_percent, spec.bonus_percent, spec.amount)
        for spec in specs
    ] == [
        (level, rule, D(rate), D(bonus), D(amount)) for level, rule, rate, bonus, amount in expected
    ]
    assert all(spec.base_amount == D(paid) and spec.quantity == quantity for spec in specs)
    assert {spec.beneficiary_id for spec in specs} <= {A, B, C}


def test_each_record_explains_its_rule_rate_base_and_cap():
    order = OrderInputs(
        order_id=1,
        beneficiaries=chain(),
        lines=[LineInput(id=9, sku_id=SKU, product_id=PRODUCT, quantity=3, paid_amount=D("27.00"))],
    )

    first, second = commission_lines_compute(
        order=order,
        plan=plan(),
        overrides=Overrides(by_sku={SKU: override("fixed", "2.50", pk=31)}),
    )

    assert first.unit_amount == D("2.50")
    assert first.explanation == {
        "rule": "sku_fixed",
        "source_id": 31,
        "mode": "fixed",
        "value": "2.50",
        "base": "27.00",
        "quantity": 3,
        "cap_percent": "30",
        "fixed_total": "7.50",
        "limited_to_base": False,
        "cap_trimmed": False,
        "amount": "7.50",
        "rate_percent": "0.00",
    }
    assert second.explanation == {
        "rule": "default",
        "source_id": 1,
        "mode": "percent",
        "value": "5",
        "base": "27.00",
        "quantity": 3,
        "cap_percent": "30",
        "cap_trimmed": True,
        "before_cap": "1.35",
        "amount": "0.60",
        "rate_percent": "2.22",
    }


def test_bonus_is_explained_with_the_sales_and_threshold():
    order = OrderInputs(
        order_id=1,
        beneficiaries=chain()[:1],
        lines=[LineInput(id=9, sku_id=SKU, product_id=PRODUCT, quantity=1, paid_amount=D("50.00"))],
        level1_monthly_sales=D("1200.00"),
    )

    (spec,) = commission_lines_compute(
        order=order, plan=plan(bonus=[("1000.00", "2.00")]), overrides=Overrides()
    )

    assert (spec.rate_percent, spec.bonus_percent, spec.amount) == (
        D("12.00"),
        D("2.00"),
        D("6.00"),
    )
    assert spec.explanation["monthly_sales"] == "1200.00"
    assert spec.explanation["bonus_threshold"] == "1000.00"
    assert spec.explanation["bonus_percent"] == "2.00"


MARGIN_CASES = [
    # id, paid, quantity, unit cost, payable, plan, expected (kind, level, rule, amount) rows
    (
        "margin 120.00 − 2 × 50.00 = 20.00 besides 10/5/2 % of the whole 120.00",
        "120.00",
        2,
        "50.00",
        True,
        plan(),
        [
            ("commission", 1, "default", "12.00"),
            ("commission", 2, "default", "6.00"),
            ("commission", 3, "default", "2.40"),
            ("margin", 1, "agency_margin", "20.00"),
        ],
    ),
    (
        "no margin when the paid amount is below the cost (90.00 < 100.00)",
        "90.00",
        2,
        "50.00",
        True,
        plan("10", "0", "0"),
        [("commission", 1, "default", "9.00")],
    ),
    (
        "no margin for a distributor who may not be paid (suspended, or the buyer)",
        "120.00",
        2,
        "50.00",
        False,
        plan("10", "0", "0"),
        [("commission", 1, "default", "12.00")],
    ),
    (
        "a disabled plan pays no commission but the margin is the distributor's own",
        "120.00",
        2,
        "50.00",
        True,
        plan(enabled=False),
        [("margin", 1, "agency_margin", "20.00")],
    ),
]


@pytest.mark.parametrize(
    ("paid", "quantity", "unit_cost", "payable", "rates", "expected"),
    [case[1:] for case in MARGIN_CASES],
    ids=[case[0] for case in MARGIN_CASES],
)
def test_agency_margin(paid, quantity, unit_cost, payable, rates, expected):
    order = OrderInputs(
        order_id=1,
        beneficiaries=chain(),
        lines=[
            LineInput(
                id=9,
                sku_id=SKU,
                product_id=PRODUCT,
                quantity=quantity,
                paid_amount=D(paid),
                agency_distributor_id=A,
                agency_unit_cost=D(unit_cost),
            )
        ],
        margin_payable=frozenset({A}) if payable else frozenset(),
    )

    specs = commission_lines_compute(order=order, plan=rates, overrides=Overrides())

    assert [(s.kind, s.level, s.rule, s.amount) for s in specs] == [
        (kind, level, rule, D(amount)) for kind, level, rule, amount in expected
    ]
    margins = [s for s in specs if s.kind == "margin"]
    assert all(s.beneficiary_id == A and s.unit_amount == D(unit_cost) for s in margins)


BUYER_USER, OTHER_USER, THIRD_USER = 1, 2, 3
PAYABLE_CASES = [
    # id, chain as (level, distributor, user, status), self purchase, expected (level, distributor)
    (
        "self-purchase off: the buyer at level 1 ends the chain (nobody is paid)",
        [(1, A, BUYER_USER, "active"), (2, B, OTHER_USER, "active")],
        False,
        [],
    ),
    (
        "self-purchase on: the buyer's own profile is paid at level 1, its upline above",
        [(1, A, BUYER_USER, "active"), (2, B, OTHER_USER, "active")],
        True,
        [(1, A), (2, B)],
    ),
    (
        "self-purchase on: the buyer further up still ends the chain (no loops)",
        [(1, A, OTHER_USER, "active"), (2, B, BUYER_USER, "active"), (3, C, THIRD_USER, "active")],
        True,
        [(1, A)],
    ),
    (
        "a suspended distributor is skipped and the others keep their levels",
        [(1, A, OTHER_USER, "active"), (2, B, THIRD_USER, "suspended"), (3, C, 4, "active")],
        False,
        [(1, A), (3, C)],
    ),
]


@pytest.mark.parametrize(
    ("snapshot", "self_purchase", "expected"),
    [case[1:] for case in PAYABLE_CASES],
    ids=[case[0] for case in PAYABLE_CASES],
)
def test_who_is_paid(snapshot, self_purchase, expected):
    assert (
        payable_chain(
            chain=[(level, pk) for level, pk, _user, _status in snapshot],
            distributors={pk: (user, status) for _level, pk, user, status in snapshot},
            customer_id=BUYER_USER,
            self_purchase=self_purchase,
        )
        == expected
    )
