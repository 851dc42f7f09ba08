from decimal import Decimal

import pytest

from apps.core.errors import DomainError
from apps.orders.models import CartItem, Order, OrderStatusChange
from apps.orders.services import (
    cart_add_item,
    order_cancel,
    order_confirm_receipt,
    order_place_from_cart,
)
from apps.products.models import Sku
from tests.factories import SkuFactory
from tests.services.flows import RECIPIENT, bind, place, shipped_order

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_checkout_submitted_five_times_at_once_places_one_order(merchant, customer):
    # given a cart with 2 × 20.00
    sku = SkuFactory(product__merchant=merchant, price=Decimal("20.00"), stock=10)
    cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=2)

    # when the checkout form is submitted five times at the same moment
    outcomes = race(
        [
            lambda: order_place_from_cart(merchant=merchant, customer=customer, recipient=RECIPIENT)
            for _ in range(5)
        ]
    )

    # then one order is placed; the other submissions find the cart empty
    placed = [outcome.value for outcome in outcomes if outcome.error is None]
    refused = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(placed) == 1
    assert [(type(error), error.code) for error in refused] == [(DomainError, "empty_cart")] * 4
    assert Order.objects.count() == 1
    assert Order.objects.get().payable_amount == Decimal("40.00")
    assert Sku.objects.get(pk=sku.pk).stock == 8
    assert CartItem.objects.count() == 0


def test_receipt_confirmed_five_times_at_once_completes_and_enqueues_once(
    merchant, customer, chain, settlements_enqueued
):
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    order = shipped_order(
        merchant=merchant,
        customer=customer,
        lines=[(SkuFactory(product__merchant=merchant, stock=10), 1)],
    )

    outcomes = race(
        [
            lambda: order_confirm_receipt(merchant=merchant, customer=customer, order_id=order.pk)
            for _ in range(5)
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None] * 5
    assert {outcome.value.status for outcome in outcomes} == {Order.Status.COMPLETED}
    assert OrderStatusChange.objects.filter(order=order, to_status="completed").count() == 1
    assert settlements_enqueued == [order.pk]


def test_order_cancelled_five_times_at_once_returns_its_stock_once(merchant, customer):
    sku = SkuFactory(product__merchant=merchant, stock=10)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 3)])
    copies = [Order.objects.get(pk=order.pk) for _ in range(5)]

    outcomes = race([lambda copy=copy: order_cancel(order=copy) for copy in copies])

    assert [outcome.error for outcome in outcomes] == [None] * 5
    assert sorted(outcome.value for outcome in outcomes) == [False] * 4 + [True]
    assert Sku.objects.get(pk=sku.pk).stock == 10
    assert OrderStatusChange.objects.filter(order=order, to_status="cancelled").count() == 1
