"""What drop-shipping does when the apps below move."""

from apps.core import events
from apps.orders.events import OrderPaid
from apps.suppliers.events import SupplyTermsChanged
from apps.tenancy.scope import platform_scope

from .services import picks_recheck, shipments_open


@events.handler(SupplyTermsChanged)
def recheck_picks(event: SupplyTermsChanged) -> None:
    # A supplier's terms bind every store that picked the SKU: their rows are re-checked across
    # merchants (row-level security would show the supplier's session none of them).
    with platform_scope(
        reason=f"supplier {event.supplier_id} changed supply terms: re-check picks"
    ):
        picks_recheck(supply_sku_ids=event.supply_sku_ids)


@events.handler(OrderPaid)
def open_shipments(event: OrderPaid) -> None:
    shipments_open(order_id=event.order_id)
