"""The one place money is quantized. CNY, two places; amounts are always ``Decimal``."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def quantize_money(value: Decimal | int | str, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Quantize to the cent. Floats are refused: they cannot represent most amounts exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=rounding)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``amount``, rounded down to the cent (never pay a fraction not earned)."""
    return quantize_money(amount * percent / HUNDRED, rounding=ROUND_DOWN)
