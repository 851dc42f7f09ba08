"""Celery tasks of the distributor programme: take ids, call a service, harmless twice."""

from celery import shared_task
from django.db import transaction


@shared_task
def tier_evaluate_task(distributor_id: int) -> bool:
    from .tiers import tier_evaluate

    return tier_evaluate(distributor_id=distributor_id) is not None


@shared_task
def tiers_evaluate_sweep() -> int:
    """Beat: every distributor of every merchant with tier conditions (rolling periods move on)."""
    from .tiers import tiers_evaluate_all

    return tiers_evaluate_all()


@shared_task
def threshold_grant_task(merchant_id: int, customer_id: int, order_id: int | None = None) -> bool:
    from .recruitment import threshold_grant_if_reached

    return (
        threshold_grant_if_reached(
            merchant_id=merchant_id, customer_id=customer_id, order_id=order_id
        )
        is not None
    )


@shared_task
def threshold_sweep_task() -> int:
    """Beat's safety net for the spending threshold (a crash between payment and task)."""
    from .recruitment import threshold_sweep

    return threshold_sweep()


def tier_evaluate_on_commit(merchant_id: int, *distributor_ids: int | None) -> None:
    """Once the current transaction commits, evaluate the tiers of these distributors (one task);
    nothing when the merchant has no tier conditions."""
    from .models import TierCondition

    ids = sorted({pk for pk in distributor_ids if pk})
    if not ids or not TierCondition.objects.filter(merchant_id=merchant_id).exists():
        return
    transaction.on_commit(lambda: tiers_evaluate_task.delay(ids))


@shared_task
def tiers_evaluate_task(distributor_ids: list[int]) -> int:
    from .tiers import tier_evaluate

    return sum(
        tier_evaluate(distributor_id=distributor_id) is not None
        for distributor_id in distributor_ids
    )


def threshold_grant_on_commit(*, merchant_id: int, customer_id: int, order_id: int) -> None:
    """Once the payment commits, check the spending threshold (threshold mode only)."""
    from .models import ProgrammeSettings

    if not ProgrammeSettings.objects.filter(
        merchant_id=merchant_id, recruitment_mode=ProgrammeSettings.RecruitmentMode.THRESHOLD
    ).exists():
        return
    transaction.on_commit(lambda: threshold_grant_task.delay(merchant_id, customer_id, order_id))
