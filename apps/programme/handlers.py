"""What the programme does when the apps below it move (apps/core/events.py).

- a payment (``OrderPaid``) may bring the buyer's paid total to the spending threshold (满额);
- a completed order (``OrderCompleted``) adds to its beneficiaries' sales, and a new distributor
  (``DistributorJoined``) is a new direct recruit of its inviter: their tiers are re-evaluated.

Each enqueues its task once the publishing transaction commits, and only when the merchant's
programme can be affected (threshold mode; tier conditions set).
"""

from django.db import transaction

from apps.core import events
from apps.distributors.events import DistributorJoined
from apps.distributors.models import ProgrammeSettings, TierCondition
from apps.orders.events import OrderCompleted, OrderPaid

from .tasks import threshold_grant_task, tiers_evaluate_task


@events.handler(OrderPaid)
def grant_threshold_when_paid(event: OrderPaid) -> None:
    if not ProgrammeSettings.objects.filter(
        merchant_id=event.merchant_id,
        recruitment_mode=ProgrammeSettings.RecruitmentMode.THRESHOLD,
    ).exists():
        return
    merchant_id, customer_id, order_id = event.merchant_id, event.customer_id, event.order_id
    transaction.on_commit(lambda: threshold_grant_task.delay(merchant_id, customer_id, order_id))


@events.handler(OrderCompleted)
def evaluate_tiers_when_completed(event: OrderCompleted) -> None:
    _evaluate_tiers_on_commit(event.merchant_id, *event.beneficiary_ids)


@events.handler(DistributorJoined)
def evaluate_inviter_tier_when_joined(event: DistributorJoined) -> None:
    _evaluate_tiers_on_commit(event.merchant_id, event.parent_id)


def _evaluate_tiers_on_commit(merchant_id: int, *distributor_ids: int | None) -> None:
    """Once the current transaction commits, evaluate the tiers of these distributors (one task);
    nothing when the merchant has no tier conditions."""
    ids = sorted({pk for pk in distributor_ids if pk})
    if not ids or not TierCondition.objects.filter(merchant_id=merchant_id).exists():
        return
    transaction.on_commit(lambda: tiers_evaluate_task.delay(ids))
