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


class NotTwoPlaces(ValueError):
    """A value that is not a finite decimal number with at most two places."""

    def __init__(self, *, is_number: bool):
        super().__init__("more than two decimal places" if is_number else "not a decimal number")
        self.is_number = is_number


def parse_two_places(value: object) -> Decimal:
    """``value`` (a Decimal, an int or a string such as "12.50") as a two-place Decimal.

    Floats and booleans are refused like text: they are never an exact amount or rate. Raises
    NotTwoPlaces, whose ``is_number`` tells "not a number at all" from "too many places".
    """
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        raise NotTwoPlaces(is_number=False)
    try:
        number = Decimal(value)
    except ArithmeticError as error:
        raise NotTwoPlaces(is_number=False) from error
    if not number.is_finite():
        raise NotTwoPlaces(is_number=False)
    try:
        exact = number == number.quantize(CENT)
    except ArithmeticError as error:  # e.g. 1e999: too many digits to have cents at all
        raise NotTwoPlaces(is_number=True) from error
    if not exact:
        raise NotTwoPlaces(is_number=True)
    return number.quantize(CENT)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``amount``, rounded down to the cent (never pay a fraction not earned)."""
    return quantize_money(amount * percent / HUNDRED, rounding=ROUND_DOWN)
