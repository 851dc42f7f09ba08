from celery import shared_task

from . import services


@shared_task
def points_expire() -> int:
    """Beat: points past their expiry date leave the members' balances (once per lot)."""
    return services.points_expire()
