"""The split arithmetic, by hand to the cent: the cap is never exceeded, the shares add up."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import percent_of
from apps.payments.split_shares import CommissionDue, Share, split_compute

D = Decimal


def dues(*amounts: str) -> list[CommissionDue]:
    return [
        CommissionDue(distributor_id=10 + level, level=level, amount=D(amount))
        for level, amount in enumerate(amounts, start=1)
    ]


CASES = [
    # (id, paid, refunded, fee, commissions by level, cap %, expected shares)
    (
        "all within the cap",
        "100.00", "0.00", "0.60", dues("10.00", "5.00", "2.00"), "30",
        [Share("platform", D("0.60")), Share("distributor", D("10.00"), 11),
         Share("distributor", D("5.00"), 12), Share("distributor", D("2.00"), 13),
         Share("merchant", D("82.40"))],
    ),
    (
        "deep levels give way to the cap, the fee counts toward it",
        "100.00", "0.00", "5.00", dues("20.00", "10.00", "5.00"), "30",
        [Share("platform", D("5.00")), Share("distributor", D("20.00"), 11),
         Share("distributor", D("5.00"), 12), Share("merchant", D("70.00"))],
    ),
    (
        "the cap is rounded down to the cent (9.999 → 9.99)",
        "33.33", "0.00", "0.19", dues("9.99"), "30",
        [Share("platform", D("0.19")), Share("distributor", D("9.80"), 11),
         Share("merchant", D("23.34"))],
    ),
    (
        "the cap is of what the payment kept after refunds",
        "200.00", "50.00", "0.90", dues("15.00", "40.00"), "30",
        [Share("platform", D("0.90")), Share("distributor", D("15.00"), 11),
         Share("distributor", D("29.10"), 12), Share("merchant", D("105.00"))],
    ),
    (
        "a zero cap sends everything to the merchant",
        "88.88", "0.00", "0.53", dues("8.88"), "0",
        [Share("merchant", D("88.88"))],
    ),
    ("a full refund leaves nothing to split", "50.00", "50.00", "0.00", dues("5.00"), "30", []),
    (
        "a fee above the cap is itself capped",
        "10.00", "0.00", "4.00", dues("1.00"), "30",
        [Share("platform", D("3.00")), Share("merchant", D("7.00"))],
    ),
    (
        "a 100 % cap can leave the merchant nothing",
        "10.00", "0.00", "0.00", dues("6.00", "4.00"), "100",
        [Share("distributor", D("6.00"), 11), Share("distributor", D("4.00"), 12)],
    ),
    (
        "one cent: 30 % of it is no cent at all",
        "0.01", "0.00", "0.00", dues("0.01"), "30",
        [Share("merchant", D("0.01"))],
    ),
    (
        "a fractional cap percent",
        "99.99", "0.00", "0.00", dues("20.00", "20.00"), "25.5",
        # 99.99 × 25.5 % = 25.49745 → 25.49
        [Share("distributor", D("20.00"), 11), Share("distributor", D("5.49"), 12),
         Share("merchant", D("74.50"))],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("paid", "refunded", "fee", "commissions", "cap", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_split_to_the_cent(paid, refunded, fee, commissions, cap, expected):
    shares = split_compute(
        paid=D(paid),
        refunded=D(refunded),
        platform_fee=D(fee),
        commissions=commissions,
        max_percent=D(cap),
    )

    assert shares == expected
    kept = D(paid) - D(refunded)
    assert sum((share.amount for share in shares), D("0")) == kept
    others = sum((share.amount for share in shares if share.receiver != "merchant"), D("0"))
    assert others <= percent_of(kept, D(cap))


def test_levels_are_served_nearest_first_whatever_the_input_order():
    commissions = list(reversed(dues("20.00", "20.00")))

    shares = split_compute(
        paid=D("100.00"),
        refunded=D("0"),
        platform_fee=D("0"),
        commissions=commissions,
        max_percent=D("30"),
    )

    assert shares == [
        Share("distributor", D("20.00"), 11),
        Share("distributor", D("10.00"), 12),
        Share("merchant", D("70.00")),
    ]


@pytest.mark.parametrize(
    ("paid", "refunded", "fee", "commission"),
    [("10.00", "10.01", "0", "0"), ("10.00", "-1", "0", "0"), ("10.00", "0", "-0.01", "0"),
     ("10.00", "0", "0", "-0.01")],
)  # fmt: skip
def test_impossible_inputs_are_refused(paid, refunded, fee, commission):
    with pytest.raises(ValueError):
        split_compute(
            paid=D(paid),
            refunded=D(refunded),
            platform_fee=D(fee),
            commissions=dues(commission),
            max_percent=D("30"),
        )


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n) / 100)


@given(
    paid=cents,
    refunded_share=st.integers(min_value=0, max_value=100),
    fee=cents,
    commissions=st.lists(cents, max_size=3),
    cap=st.integers(min_value=0, max_value=10_000).map(lambda n: D(n) / 100),
)
def test_the_cap_is_never_exceeded_and_nothing_is_lost(paid, refunded_share, fee, commissions, cap):
    refunded = percent_of(paid, D(refunded_share))
    shares = split_compute(
        paid=paid,
        refunded=refunded,
        platform_fee=fee,
        commissions=dues(*map(str, commissions)),
        max_percent=cap,
    )

    kept = paid - refunded
    assert sum((share.amount for share in shares), D("0")) == kept
    assert sum(
        (share.amount for share in shares if share.receiver != "merchant"), D("0")
    ) <= percent_of(kept, cap)
    assert all(share.amount > 0 for share in shares)
