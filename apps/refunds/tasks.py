from celery import shared_task

from . import services


@shared_task
def refund_execute_task(case_id: int) -> str:
    return services.refund_execute(case_id=case_id)


@shared_task
def refunds_retry_approved() -> int:
    """Beat's safety net: approved cases never handed to the provider are handed again (the same
    idempotency key, so the provider refunds once)."""
    case_ids = services.refunds_stuck_approved()
    for case_id in case_ids:
        refund_execute_task.delay(case_id)
    return len(case_ids)


@shared_task
def refund_query_outcome_task(case_id: int) -> str:
    return services.refund_query_outcome(case_id=case_id)


@shared_task
def refunds_query_refunding() -> int:
    """Beat's safety net for refunds the provider accepted: a case whose outcome never arrived
    (a lost notification) is asked about, and the provider's answer applied as the notification
    would have been."""
    case_ids = services.refunds_stuck_refunding()
    for case_id in case_ids:
        refund_query_outcome_task.delay(case_id)
    return len(case_ids)


@shared_task
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
