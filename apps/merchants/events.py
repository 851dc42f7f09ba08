"""What merchants tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class MerchantCreated(Event):
    """A merchant was created (directly or by approving its application), published in the
    creating transaction: the apps above give it their defaults (commissions: its plan)."""

    merchant_id: int


@dataclass(frozen=True, kw_only=True)
class MerchantTakeChanged(Event):
    """What commission and the platform fee can take of this merchant's prices changed (the
    commission plan's cap, or the platform fee), published in the changing transaction: prices
    that were safe under the old take may not be any more (dropship: supplied items' floors)."""

    merchant_id: int
