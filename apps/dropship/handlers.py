"""What drop-shipping does when the apps below move."""

from apps.core import events
from apps.merchants.events import MerchantTakeChanged
from apps.orders.events import OrderPaid
from apps.suppliers.events import SupplyTermsChanged

from .services import picks_recheck, shipments_open


@events.handler(SupplyTermsChanged)
def recheck_picks(event: SupplyTermsChanged) -> None:
    picks_recheck(supply_sku_ids=event.supply_sku_ids)


@events.handler(MerchantTakeChanged)
def recheck_merchant_picks(event: MerchantTakeChanged) -> None:
    picks_recheck(merchant_id=event.merchant_id)


@events.handler(OrderPaid)
def open_shipments(event: OrderPaid) -> None:
    shipments_open(order_id=event.order_id)
