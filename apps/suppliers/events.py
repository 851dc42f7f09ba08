"""What the supply catalogue tells the apps above it."""

from dataclasses import dataclass

from apps.core.events import Event


@dataclass(frozen=True, kw_only=True)
class SupplyTermsChanged(Event):
    """A supply price, a minimum retail price, or whether a SKU may be sold changed: every store
    that picked these SKUs re-checks its retail prices (and hides what no longer passes)."""

    supplier_id: int
    supply_sku_ids: tuple[int, ...]
