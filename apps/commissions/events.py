"""What commissions tells the rest of the house (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class CommissionReleased(Event):
    """Commission records of these orders were released (committed, or published in the releasing
    transaction): each order's commission may now be final, so its payment split is tried once
    the transaction commits (``handlers.split_when_released``; it does nothing until every record
    of the order is released or cancelled)."""

    order_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class CommissionSettled(Event):
    """These completed orders' commission records were created (frozen), published in the
    settling transaction (one event per batch): integrators are told (``apps.webhooks``)."""

    order_ids: tuple[int, ...]
