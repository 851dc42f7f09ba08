"""What commissions tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class CommissionsSettled(Event):
    """An order's commission records were created (frozen), in the settling transaction."""

    merchant_id: int
    order_id: int
    record_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class CommissionReleased(Event):
    """A frozen record moved to its beneficiary's available balance, in the releasing transaction."""

    merchant_id: int
    record_id: int
    order_id: int
    distributor_id: int
