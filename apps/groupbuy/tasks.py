from celery import shared_task

from . import services


@shared_task
def groups_close_expired() -> int:
    """Beat: fail the groups whose time ran out and refund their members (idempotent)."""
    return services.groups_close_expired()
