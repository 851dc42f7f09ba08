"""The refund arithmetic, to the cent, hand-computed."""

from decimal import Decimal

import pytest

from apps.refunds.prorata import commission_reversal, platform_fee_share, quantity_amount

D = Decimal


@pytest.mark.parametrize(
    ("record", "already", "paid", "refunded", "expected"),
    [
        # 3.33 × 10/33.33 = 0.99909… → up to 0.9991… → 1.00
        (D("3.33"), D("0.00"), D("33.33"), D("10.00"), D("1.00")),
        # full refund reverses the record exactly
        (D("3.33"), D("0.00"), D("33.33"), D("33.33"), D("3.33")),
        # second piece: cumulative 20.00 → 3.33 × 20/33.33 = 1.998… → 2.00, minus 1.00 taken
        (D("3.33"), D("1.00"), D("33.33"), D("20.00"), D("1.00")),
        # the last piece takes the rest exactly
        (D("3.33"), D("2.00"), D("33.33"), D("33.33"), D("1.33")),
        # 0.66 × 0.01/33.33 = 0.000198 → 0.01 (rounded up: the keeper's part rounds down)
        (D("0.66"), D("0.00"), D("33.33"), D("0.01"), D("0.01")),
        # nothing more to take when an earlier rounding already took it
        (D("0.66"), D("0.01"), D("33.33"), D("0.02"), D("0.00")),
        # half of 1.50 on 30.03 paid, 15.015 is not a refund; 10.01 (one of three units)
        (D("1.50"), D("0.00"), D("30.03"), D("10.01"), D("0.50")),
        (D("0.60"), D("0.00"), D("30.03"), D("10.01"), D("0.20")),
        # a zero record never gives anything
        (D("0.00"), D("0.00"), D("30.03"), D("30.03"), D("0.00")),
    ],
)
def test_commission_reversal_to_the_cent(record, already, paid, refunded, expected):
    assert (
        commission_reversal(
            record_amount=record, already_reversed=already, line_paid=paid, line_refunded=refunded
        )
        == expected
    )


def test_commission_reversal_in_pieces_adds_up_to_the_record_and_never_exceeds_it():
    record, paid = D("3.33"), D("33.33")
    reversed_total = D("0.00")
    for cumulative in (D("0.01"), D("0.02"), D("7.77"), D("7.78"), D("33.32"), D("33.33")):
        part = commission_reversal(
            record_amount=record,
            already_reversed=reversed_total,
            line_paid=paid,
            line_refunded=cumulative,
        )
        assert part >= 0
        reversed_total += part
        assert reversed_total <= record
    assert reversed_total == record


@pytest.mark.parametrize(
    ("fee", "amount", "before", "refund", "expected"),
    [
        (D("0.63"), D("63.36"), D("0.00"), D("10.00"), D("0.09")),  # 0.0994 → 0.09
        (D("0.63"), D("63.36"), D("10.00"), D("53.36"), D("0.54")),  # the rest of 0.63
        (D("0.63"), D("63.36"), D("0.00"), D("63.36"), D("0.63")),
        (D("0.00"), D("63.36"), D("0.00"), D("63.36"), D("0.00")),
    ],
)
def test_platform_fee_share(fee, amount, before, refund, expected):
    assert (
        platform_fee_share(fee=fee, payment_amount=amount, refunded_before=before, refund=refund)
        == expected
    )


@pytest.mark.parametrize(
    ("paid", "quantity", "before", "units", "expected"),
    [
        (D("30.03"), 3, 0, 1, D("10.01")),
        (D("10.00"), 3, 0, 1, D("3.33")),
        (D("10.00"), 3, 1, 1, D("3.33")),  # 6.66 − 3.33
        (D("10.00"), 3, 2, 1, D("3.34")),  # the last unit takes the rest
        (D("10.00"), 3, 0, 3, D("10.00")),
    ],
)
def test_quantity_amount(paid, quantity, before, units, expected):
    assert (
        quantity_amount(line_paid=paid, line_quantity=quantity, units_before=before, units=units)
        == expected
    )
