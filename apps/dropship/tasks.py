from celery import shared_task

from .supply_money import supply_release_due


@shared_task
def supply_release_due_task() -> int:
    """Beat's job: suppliers' shares whose after-sale window closed become available."""
    return supply_release_due()
