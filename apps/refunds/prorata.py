"""Pro-rata arithmetic of refunds, as pure functions (no database).

Every share is computed on the CUMULATIVE refunded amount and the difference to what earlier
refunds already took is this refund's part. So however a line is refunded in pieces, the parts add
up to the share of the total, rounding never drifts, and a full refund takes back exactly all.

- Commission reversal: the cumulative target is ``record × refunded / paid`` rounded UP to the cent
  (the beneficiary keeps ``record − reversed``, which is then rounded down, like every commission:
  the platform never pays a fraction it did not earn). It never exceeds the record, since
  ``refunded ≤ paid``; at ``refunded = paid`` it is the record exactly.
- Platform fee share: the fee the platform gives back is ``fee × refunded / paid`` rounded DOWN
  (the platform keeps the fraction of a cent until the last refund, which returns the rest).
- Quantity refunds: ``n`` units of a line are worth ``paid × units / quantity`` on the same
  cumulative rule, rounded down; the last unit takes what remains of the line.
"""

from decimal import ROUND_DOWN, ROUND_UP, Decimal

from apps.core.money import ZERO, quantize_money


def _cumulative(total: Decimal, part: Decimal, whole: Decimal, *, rounding: str) -> Decimal:
    if whole <= ZERO or part <= ZERO:
        return ZERO
    if part >= whole:
        return total
    return min(total, quantize_money(total * part / whole, rounding=rounding))


def commission_reversal(
    *, record_amount: Decimal, already_reversed: Decimal, line_paid: Decimal, line_refunded: Decimal
) -> Decimal:
    """What to take back now from a record of ``record_amount`` on a line paid ``line_paid``, of
    which ``line_refunded`` in all (this refund included) has been refunded."""
    target = _cumulative(record_amount, line_refunded, line_paid, rounding=ROUND_UP)
    return max(target - already_reversed, ZERO)


def platform_fee_share(
    *, fee: Decimal, payment_amount: Decimal, refunded_before: Decimal, refund: Decimal
) -> Decimal:
    """The part of the payment's platform fee that a refund of ``refund`` gives back."""
    after = _cumulative(fee, refunded_before + refund, payment_amount, rounding=ROUND_DOWN)
    before = _cumulative(fee, refunded_before, payment_amount, rounding=ROUND_DOWN)
    return after - before


def quantity_amount(
    *, line_paid: Decimal, line_quantity: int, units_before: int, units: int
) -> Decimal:
    """What ``units`` more units of a line are worth, ``units_before`` being refunded already."""
    after = _cumulative(
        line_paid, Decimal(units_before + units), Decimal(line_quantity), rounding=ROUND_DOWN
    )
    before = _cumulative(
        line_paid, Decimal(units_before), Decimal(line_quantity), rounding=ROUND_DOWN
    )
    return after - before
