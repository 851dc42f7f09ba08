from celery import shared_task

from apps.tenancy.tasks import delay_in_merchant_scopes

from . import services
from .models import RefundCase


@shared_task
def refund_execute_task(case_id: int) -> str:
    return services.refund_execute(case_id=case_id)


@shared_task(platform_scope="beat: retry approved refunds of every store")
def refunds_retry_approved() -> int:
    """Beat's safety net: approved cases never handed to the provider are handed again (the same
    idempotency key, so the provider refunds once)."""
    case_ids = services.refunds_stuck_approved()
    return delay_in_merchant_scopes(refund_execute_task, RefundCase, case_ids)


@shared_task
def refund_query_outcome_task(case_id: int) -> str:
    return services.refund_query_outcome(case_id=case_id)


@shared_task(platform_scope="beat: ask providers about stuck refunds of every store")
def refunds_query_refunding() -> int:
    """Beat's safety net for refunds the provider accepted: a case whose outcome never arrived
    (a lost notification) is asked about, and the provider's answer applied as the notification
    would have been."""
    case_ids = services.refunds_stuck_refunding()
    return delay_in_merchant_scopes(refund_query_outcome_task, RefundCase, case_ids)


@shared_task(platform_scope="beat: refund-rate fraud flags of every store")
def refund_rate_flags_sweep_task() -> int:
    """Beat: raise the refund-rate fraud flags of every merchant (harmless twice: one open flag
    per distributor)."""
    from .fraud import refund_rate_flags_sweep

    return refund_rate_flags_sweep()


@shared_task
def payment_refund_superseded_task(payment_id: int) -> str:
    """Refund, in full, money that arrived for a superseded checkout (the consumer paid the
    order through another provider, or may still). Once per payment; an unreachable provider
    leaves the case approved for ``refunds_retry_approved``."""
    return services.payment_refund_superseded(payment_id=payment_id)
