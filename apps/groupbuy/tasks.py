from celery import shared_task

from . import services


@shared_task(platform_scope="beat: close expired groups of every store")
def groups_close_expired() -> int:
    """Beat: fail the groups whose time ran out and refund their members (idempotent)."""
    return services.groups_close_expired()
