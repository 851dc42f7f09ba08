from celery import shared_task

from . import services


@shared_task
def orders_cancel_expired() -> int:
    return services.orders_cancel_expired()


@shared_task
def orders_auto_complete() -> int:
    return services.orders_auto_complete()
