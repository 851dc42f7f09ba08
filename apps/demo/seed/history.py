"""The demo's past: the only direct writes of the demo move the timestamps of the "weeks ago"
history into the past together, so that the old order's commission is due for release."""

from datetime import timedelta

from django.conf import settings

from apps.accounts.models import User
from apps.commissions.models import CommissionPlan, CommissionRecord
from apps.distributors.models import CustomerBinding, Distributor
from apps.merchants.models import Merchant
from apps.orders.models import Order, OrderStatusChange
from apps.payments.models import Payment
from apps.products.models import Product

from .orders import COMPLETED, ORDERS, PAID, PENDING, RELEASED, SHIPPED
from .world import DemoWorld


def backdate_history(world: DemoWorld) -> None:
    """Move the demo's past into the past, consistently, so the old order's freeze is over."""
    now = world.now
    merchants = list(world.merchants.values())
    Merchant.objects.filter(pk__in=[m.pk for m in merchants]).update(
        created_at=now - timedelta(days=60)
    )
    User.objects.filter(pk__in=[u.pk for u in world.users.values()]).exclude(
        username="admin"
    ).update(date_joined=now - timedelta(days=45))
    Product.objects.filter(merchant__in=merchants).update(created_at=now - timedelta(days=40))
    for position, distributor in enumerate(world.distributors.values()):
        Distributor.objects.filter(pk=distributor.pk).update(
            joined_at=now - timedelta(days=30) + timedelta(hours=position)
        )
    CustomerBinding.objects.filter(merchant__in=merchants).update(bound_at=now - timedelta(days=20))

    index = next(i for i, spec in enumerate(ORDERS) if spec.outcome == RELEASED)
    order = world.orders[index]
    freeze_days = CommissionPlan.objects.get(merchant_id=order.merchant_id).freeze_days
    completed = now - timedelta(days=freeze_days + 2)
    shipped = completed - timedelta(days=2)
    placed = shipped - timedelta(days=1)
    paid = placed + timedelta(minutes=4)
    Order.objects.filter(pk=order.pk).update(
        created_at=placed,
        expires_at=placed + timedelta(minutes=settings.FENXIAO_UNPAID_ORDER_TTL_MINUTES),
        paid_at=paid,
        shipped_at=shipped,
        completed_at=completed,
    )
    history = {PENDING: placed, PAID: paid, SHIPPED: shipped, COMPLETED: completed}
    for status, at in history.items():
        OrderStatusChange.objects.filter(order_id=order.pk, to_status=status).update(created_at=at)
    Payment.objects.filter(order_id=order.pk).update(
        created_at=placed + timedelta(minutes=2), succeeded_at=paid
    )
    CommissionRecord.objects.filter(order_id=order.pk).update(
        created_at=completed, release_at=completed + timedelta(days=freeze_days)
    )
