from decimal import Decimal

import pytest

from apps.orders.models import Order, OrderStatusChange
from apps.orders.services import order_cancel
from apps.payments.models import Payment
from apps.payments.services import payment_handle_notification, payment_start
from apps.products.models import Sku
from tests.factories import SkuFactory
from tests.services.flows import place, signed_notification

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_notification_delivered_ten_times_at_once_pays_once(merchant, customer):
    # given an unpaid order of 63.36 and its pending payment (platform fee 1 %)
    sku = SkuFactory(product__merchant=merchant, price=Decimal("21.12"), stock=10)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 3)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body, headers = signed_notification(payment)

    # when the provider delivers the same notification ten times at the same moment
    outcomes = race(
        [
            lambda: payment_handle_notification(
                provider="sandbox", body=body, headers=dict(headers)
            )
            for _ in range(10)
        ]
    )

    # then exactly one delivery paid the order; the rest were duplicates
    assert [outcome.error for outcome in outcomes] == [None] * 10
    assert sorted(outcome.value for outcome in outcomes) == ["duplicate"] * 9 + ["paid"]
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert OrderStatusChange.objects.filter(order=order, to_status=Order.Status.PAID).count() == 1
    assert OrderStatusChange.objects.filter(order=order).count() == 2
    assert list(Payment.objects.values_list("status", "platform_fee", "merchant_net")) == [
        ("succeeded", Decimal("0.63"), Decimal("62.73"))
    ]


def test_notification_racing_a_cancellation_leaves_one_consistent_outcome(merchant, customer):
    sku = SkuFactory(product__merchant=merchant, price=Decimal("10.00"), stock=10)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    payment = payment_start(merchant=merchant, customer=customer, order_id=order.pk)
    body, headers = signed_notification(payment)
    stale_order = Order.objects.get(pk=order.pk)

    outcomes = race(
        [
            lambda: payment_handle_notification(provider="sandbox", body=body, headers=headers),
            lambda: order_cancel(order=stale_order, reason="expired"),
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None, None]
    paid_outcome, cancelled = outcomes[0].value, outcomes[1].value
    order.refresh_from_db()
    payment.refresh_from_db()
    stock = Sku.objects.get(pk=sku.pk).stock
    # exactly one of the two won, and everything agrees with the winner
    assert (paid_outcome, cancelled) in {("paid", False), ("refund_required", True)}
    if paid_outcome == "paid":
        assert (order.status, payment.status, stock) == ("paid", "succeeded", 8)
    else:
        assert (order.status, payment.status, stock) == ("cancelled", "refund_required", 10)
    assert OrderStatusChange.objects.filter(order=order).count() == 2
