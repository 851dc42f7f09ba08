"""分账: how a payment is divided between the platform, the distributors and the merchant.

The cap (``FENXIAO_SPLIT_MAX_PERCENT``, 30 % by default as WeChat Pay applies) bounds everything
sent to receivers other than the merchant, and the platform's fee counts toward it: in WeChat Pay's
profit sharing the platform (服务商) is a receiver like any other, and only the provider's own
processing fee stays outside the cap. The cap is taken of what the payment kept — paid less
refunded — rounded down to the cent, so a rounding can never push the shares past it.

Within the cap the platform's fee comes first (it is the platform's contract with the merchant),
then the distributors by level (the nearest first), each getting as much of its commission as the
cap still allows, then the suppliers of the order's goods (by supplier id) with what they were
finally owed. Commission or a supplier's share above the cap is not split: it stays in its
holder's wallet and is paid from the merchant's share through a withdrawal.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import ZERO, percent_of


@dataclass(frozen=True)
class CommissionDue:
    """What one distributor finally earned on the order (after reversals), at its level."""

    distributor_id: int
    level: int
    amount: Decimal


@dataclass(frozen=True)
class SupplierDue:
    """What one supplier was finally owed on the order (its released shares, after refunds)."""

    supplier_id: int
    amount: Decimal


@dataclass(frozen=True)
class Share:
    receiver: str  # PaymentSplit.Receiver value
    amount: Decimal
    distributor_id: int | None = None
    supplier_id: int | None = None


def split_compute(
    *,
    paid: Decimal,
    refunded: Decimal,
    platform_fee: Decimal,
    commissions: Sequence[CommissionDue],
    max_percent: Decimal,
    suppliers: Sequence[SupplierDue] = (),
) -> list[Share]:
    """The shares of a payment: platform, distributors (nearest level first), merchant last.

    Shares of zero are left out. The shares add up to ``paid - refunded`` exactly, and the
    non-merchant shares never exceed ``max_percent`` of it.
    """
    if paid < ZERO or refunded < ZERO or refunded > paid:
        raise ValueError("refunded must be between zero and the paid amount")
    if (
        platform_fee < ZERO
        or any(due.amount < ZERO for due in commissions)
        or any(due.amount < ZERO for due in suppliers)
    ):
        raise ValueError("shares cannot be negative")
    kept = paid - refunded
    remaining = percent_of(kept, max_percent)
    shares: list[Share] = []
    platform = min(platform_fee, remaining)
    if platform > ZERO:
        shares.append(Share("platform", platform))
        remaining -= platform
    for due in sorted(commissions, key=lambda due: (due.level, due.distributor_id)):
        amount = min(due.amount, remaining)
        if amount > ZERO:
            shares.append(Share("distributor", amount, due.distributor_id))
            remaining -= amount
    for owed in sorted(suppliers, key=lambda owed: owed.supplier_id):
        amount = min(owed.amount, remaining)
        if amount > ZERO:
            shares.append(Share("supplier", amount, supplier_id=owed.supplier_id))
            remaining -= amount
    merchant = kept - sum((share.amount for share in shares), ZERO)
    if merchant > ZERO:
        shares.append(Share("merchant", merchant))
    return shares
