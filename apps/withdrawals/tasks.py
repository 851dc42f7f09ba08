from celery import shared_task

from apps.payments.providers import PayoutUnavailable
from apps.tenancy.tasks import delay_in_merchant_scopes

from . import services
from .models import Withdrawal

RETRY_DELAYS = (10, 30, 60, 300, 900)


@shared_task(bind=True, max_retries=len(RETRY_DELAYS))
def withdrawal_payout_task(self, withdrawal_id: int) -> str:  # type: ignore[no-untyped-def]
    """Pay out one withdrawal. Safe to run twice: the provider pays once per idempotency key.
    When the provider gives no answer it is retried with backoff; beyond that, the sweeper."""
    try:
        return services.withdrawal_pay(withdrawal_id=withdrawal_id)
    except PayoutUnavailable as error:
        delay = RETRY_DELAYS[min(self.request.retries, len(RETRY_DELAYS) - 1)]
        raise self.retry(exc=error, countdown=delay) from error


@shared_task
def withdrawal_resume_task(withdrawal_id: int) -> str:
    try:
        return services.withdrawal_resume(withdrawal_id=withdrawal_id)
    except PayoutUnavailable:
        return "paying"


@shared_task(platform_scope="beat: sweep withdrawals of every store")
def withdrawals_sweep() -> int:
    """Beat's safety net for payouts stuck 'paying' or approved and never started."""
    ids = services.withdrawals_left_behind()
    return delay_in_merchant_scopes(withdrawal_resume_task, Withdrawal, ids)
