from celery import shared_task

from . import services


@shared_task(platform_scope="beat: cancel expired unpaid orders of every store")
def orders_cancel_expired() -> int:
    return services.orders_cancel_expired()


@shared_task(platform_scope="beat: complete shipped orders of every store")
def orders_auto_complete() -> int:
    return services.orders_auto_complete()
