"""What withdrawals does when a withdrawal moves: the services publish, the tasks pay out.

The services never import the tasks (the tasks call the services): an approved withdrawal's
payout task is enqueued here, once the approving transaction commits.
"""

from django.db import transaction

from apps.core import events

from .events import WithdrawalStatusChanged
from .models import Withdrawal
from .tasks import withdrawal_payout_task


@events.handler(WithdrawalStatusChanged)
def pay_out_when_approved(event: WithdrawalStatusChanged) -> None:
    if event.status != Withdrawal.Status.APPROVED:
        return
    withdrawal_id = event.withdrawal_id
    transaction.on_commit(lambda: withdrawal_payout_task.delay(withdrawal_id))
