"""The lowest retail price a store may sell a supplied SKU at.

Two floors, the higher wins: the supplier's minimum retail price, and the **money floor** — the
price at which the store still receives at least the supply price after the most that commission
(the plan's cap on all levels) and the platform fee can take:

    price × (1 − (cap + fee) / 100) ≥ supply price

Commission and the fee are each rounded down to the cent, so the price rounded *up* to the cent
from ``supply / keep`` is safe. If cap + fee leave nothing (≥ 100 %), no price is safe.
"""

from decimal import ROUND_UP, Decimal

from django.utils.translation import gettext as _

from apps.commissions.models import CommissionPlan
from apps.core.errors import DomainError
from apps.core.money import quantize_money
from apps.merchants.models import Merchant

HUNDRED = Decimal("100")


def money_floor(*, supply_price: Decimal, cap_percent: Decimal, fee_percent: Decimal) -> Decimal:
    keep = HUNDRED - cap_percent - fee_percent
    if keep <= 0:
        raise DomainError(
            _(
                "Commission (up to %(cap)s%%) and the platform fee (%(fee)s%%) can take the whole "
                "price: no retail price is safe. Lower the commission cap first."
            )
            % {"cap": cap_percent, "fee": fee_percent},
            code="no_safe_price",
        )
    return quantize_money(supply_price * HUNDRED / keep, rounding=ROUND_UP)


def merchant_take_percents(merchant: Merchant) -> tuple[Decimal, Decimal]:
    """(commission cap %, platform fee %) of the merchant's programme as it stands."""
    cap = (
        CommissionPlan.objects.filter(merchant=merchant)
        .values_list("max_total_percent", flat=True)
        .first()
    )
    return (cap if cap is not None else HUNDRED), merchant.platform_fee_percent


def retail_floor(
    *, supply_price: Decimal, min_retail_price: Decimal, cap_percent: Decimal, fee_percent: Decimal
) -> Decimal:
    return max(
        min_retail_price,
        money_floor(supply_price=supply_price, cap_percent=cap_percent, fee_percent=fee_percent),
    )
