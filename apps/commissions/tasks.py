from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services


@shared_task
def commission_settle_order_task(order_id: int) -> int:
    """Settle the order (harmless twice: compare-and-swap gated); with a batch size above 1, also
    other completed orders waiting for settlement, in bulk (``commission_settle_orders``)."""
    limit = settings.FENXIAO_SETTLEMENT_BATCH
    if limit > 1:
        return services.commission_settle_orders(order_id=order_id, limit=limit)
    return services.commission_settle_order(order_id=order_id)


@shared_task
def commissions_release_due() -> int:
    return services.commissions_release_due()


@shared_task
def commissions_sweep_unsettled() -> int:
    """Beat's safety net: enqueue settlement for completed orders that were never settled."""
    order_ids = services.commissions_unsettled_order_ids(
        older_than=timedelta(seconds=settings.FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS)
    )
    for order_id in order_ids:
        commission_settle_order_task.delay(order_id)
    return len(order_ids)
