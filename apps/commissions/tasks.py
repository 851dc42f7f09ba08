from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.orders.models import Order
from apps.tenancy.tasks import delay_in_merchant_scopes

from . import services
from .payment_splits import payment_split_due_order_ids, payment_split_order


@shared_task
def commission_settle_order_task(order_id: int) -> int:
    """Settle the order (harmless twice: compare-and-swap gated) and, with a batch size above 1,
    other completed orders waiting for settlement, in bulk (``commission_settle_orders``)."""
    return services.commission_settle_orders(order_id=order_id)


@shared_task(platform_scope="beat: release due commission of every store")
def commissions_release_due() -> int:
    return services.commissions_release_due()


@shared_task(platform_scope="beat: sweep unsettled orders of every store")
def commissions_sweep_unsettled() -> int:
    """Beat's safety net: enqueue settlement for completed orders that were never settled."""
    order_ids = services.commissions_unsettled_order_ids(
        older_than=timedelta(seconds=settings.FENXIAO_SETTLEMENT_SWEEP_AFTER_SECONDS)
    )
    return delay_in_merchant_scopes(commission_settle_order_task, Order, order_ids)


@shared_task
def payment_split_order_task(order_id: int) -> int:
    """Split the order's payment if its commission is final (else nothing); harmless twice."""
    return payment_split_order(order_id=order_id)


@shared_task(platform_scope="beat: sweep unsplit payments of every store")
def payments_sweep_splits() -> int:
    """Beat's safety net: splits that are due but were never run, or failed."""
    return delay_in_merchant_scopes(payment_split_order_task, Order, payment_split_due_order_ids())
