"""What distributors tell the apps above them (apps/core/events.py)."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class DistributorJoined(Event):
    """A new distributor took its place in the tree (``parent_id``: its inviter, if any),
    published inside the joining transaction."""

    merchant_id: int
    distributor_id: int
    parent_id: int | None
