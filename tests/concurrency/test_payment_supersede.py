"""A notification for a pending payment racing the consumer's switch to another provider: one of
the two wins and everything agrees with it (real threads, real commits, PostgreSQL)."""

from decimal import Decimal

import pytest

from apps.core.errors import Conflict
from apps.orders.models import Order
from apps.payments import tasks as payment_tasks
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.refunds import tasks as refund_tasks
from tests.factories import SkuFactory
from tests.services.flows import place, signed_notification

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("attempt", range(3))
def test_a_notification_racing_a_switch_of_provider_pays_once_or_is_refunded(
    merchant, customer, monkeypatch, attempt
):
    closes: list[int] = []
    refunds: list[int] = []
    monkeypatch.setattr(payment_tasks.payment_close_at_provider_task, "delay", closes.append)
    monkeypatch.setattr(refund_tasks.payment_refund_superseded_task, "delay", refunds.append)
    sku = SkuFactory(product__merchant=merchant, price=Decimal("10.00"), stock=10)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    sandbox = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body, headers = signed_notification(sandbox)

    notified, switched = race(
        [
            lambda: payment_handle_notification(provider="sandbox", body=body, headers=headers),
            lambda: payment_start(
                merchant=merchant, customer=customer, order_id=order.pk, provider="wechatpay"
            ),
        ]
    )

    assert notified.error is None
    order.refresh_from_db()
    payments = list(Payment.objects.filter(order=order).order_by("id").values_list("status"))
    if notified.value == "paid":
        assert isinstance(switched.error, Conflict)
        assert (order.status, payments, closes, refunds) == (
            Order.Status.PAID, [("succeeded",)], [], []
        )  # fmt: skip
    else:
        assert notified.value == "refund_required"
        assert switched.error is None
        assert (order.status, payments, closes, refunds) == (
            Order.Status.PENDING_PAYMENT,
            [("refund_required",), ("pending",)],
            [sandbox.pk],
            [sandbox.pk],
        )
