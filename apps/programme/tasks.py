"""Celery tasks of the programme's figures: take ids, call a service, harmless to run twice."""

from celery import shared_task

from .threshold import threshold_grant_if_reached, threshold_sweep
from .tiers import tier_evaluate, tiers_evaluate_all


@shared_task(platform_scope="beat: evaluate tiers of every store")
def tiers_evaluate_sweep() -> int:
    """Beat: every distributor of every merchant with tier conditions (rolling periods move on)."""
    return tiers_evaluate_all()


@shared_task
def tiers_evaluate_task(distributor_ids: list[int]) -> int:
    return sum(
        tier_evaluate(distributor_id=distributor_id) is not None
        for distributor_id in distributor_ids
    )


@shared_task
def threshold_grant_task(merchant_id: int, customer_id: int, order_id: int | None = None) -> bool:
    return (
        threshold_grant_if_reached(
            merchant_id=merchant_id, customer_id=customer_id, order_id=order_id
        )
        is not None
    )


@shared_task(platform_scope="beat: spending thresholds of every store")
def threshold_sweep_task() -> int:
    """Beat's safety net for the spending threshold (a crash between payment and task)."""
    return threshold_sweep()
