"""What drop-shipping does when the apps below move.

- A supplier's terms change (``SupplyTermsChanged``): every store's picks are checked again; so
  are one store's when its commission cap or platform fee changes (``MerchantTakeChanged``).
- An order is paid (``OrderPaid``): its parcels are opened and what its suppliers are owed is
  frozen in the ledger, in the payment's transaction.
- An order completes (``OrderCompleted``): the suppliers' shares get their release date.
- A refund completes (``RefundCompleted``): the supplier's share of the refunded lines is taken
  back when the case says the supplier bears it, in the refund's transaction.
"""

from apps.core import events
from apps.merchants.events import MerchantTakeChanged
from apps.orders.events import OrderCompleted, OrderPaid
from apps.refunds.events import RefundCompleted
from apps.suppliers.events import SupplyTermsChanged

from .services import picks_recheck, shipments_open
from .supply_money import supply_claw_back_case, supply_shares_open, supply_shares_schedule


@events.handler(SupplyTermsChanged)
def recheck_picks(event: SupplyTermsChanged) -> None:
    picks_recheck(supply_sku_ids=event.supply_sku_ids)


@events.handler(MerchantTakeChanged)
def recheck_merchant_picks(event: MerchantTakeChanged) -> None:
    picks_recheck(merchant_id=event.merchant_id)


@events.handler(OrderPaid)
def open_shipments(event: OrderPaid) -> None:
    shipments_open(order_id=event.order_id)


@events.handler(OrderPaid)
def owe_suppliers(event: OrderPaid) -> None:
    supply_shares_open(order_id=event.order_id)


@events.handler(OrderCompleted)
def schedule_supply_release(event: OrderCompleted) -> None:
    supply_shares_schedule(order_id=event.order_id)


@events.handler(RefundCompleted)
def claw_back_supply(event: RefundCompleted) -> None:
    supply_claw_back_case(refund_case_id=event.refund_case_id)
