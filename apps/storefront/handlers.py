"""TEMPORARY (issue 8, orders branch): replaced by the handlers of the programme app
(``apps/programme``), which stands above orders; drop this file and ``StorefrontConfig.ready`` when
the programme branch merges.

Keeps today's behaviour while orders no longer calls the programme code in ``apps.distributors``
(which stands below orders and will hold only the tree): a paid order checks the spending
threshold (recruitment mode 满额) and a completed order re-evaluates its beneficiaries' tiers, both
once the transaction commits — exactly what ``order_mark_paid`` and ``order_complete`` did
themselves before they published ``OrderPaid`` and ``OrderCompleted``.
"""

from apps.core import events
from apps.distributors.tasks import threshold_grant_on_commit, tier_evaluate_on_commit
from apps.orders.events import OrderCompleted, OrderPaid


@events.handler(OrderPaid)
def grant_threshold_when_paid(event: OrderPaid) -> None:
    threshold_grant_on_commit(
        merchant_id=event.merchant_id, customer_id=event.customer_id, order_id=event.order_id
    )


@events.handler(OrderCompleted)
def evaluate_tiers_when_completed(event: OrderCompleted) -> None:
    tier_evaluate_on_commit(event.merchant_id, *event.beneficiary_ids)
