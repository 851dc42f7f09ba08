from decimal import Decimal

import pytest

from apps.core.errors import Conflict
from apps.orders.models import Order, OrderLine
from apps.products.models import Sku
from tests.factories import SkuFactory, UserFactory
from tests.services.flows import place

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_buyers_racing_for_five_units_get_exactly_five_orders(merchant):
    # given five units and twenty buyers
    sku = SkuFactory(product__merchant=merchant, price=Decimal("12.50"), stock=5)
    buyers = UserFactory.create_batch(20)

    # when all of them order one unit at the same moment
    outcomes = race(
        [
            lambda buyer=buyer: place(merchant=merchant, customer=buyer, lines=[(sku, 1)])
            for buyer in buyers
        ]
    )

    # then exactly five orders exist, the others were told it is sold out, and stock is zero
    orders = [outcome.value for outcome in outcomes if outcome.error is None]
    refused = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(orders) == 5
    assert len(refused) == 15
    assert {(type(error), error.code) for error in refused} == {(Conflict, "out_of_stock")}
    assert Sku.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.count() == 5
    assert OrderLine.objects.filter(sku=sku).count() == 5
    assert {order.customer_id for order in orders} == set(
        Order.objects.values_list("customer_id", flat=True)
    )


def test_buyers_of_two_units_never_oversell(merchant):
    # given seven units; ten buyers want two each, sorted differently across two SKUs
    first = SkuFactory(product__merchant=merchant, stock=7)
    second = SkuFactory(product__merchant=merchant, stock=100)
    buyers = UserFactory.create_batch(10)

    outcomes = race(
        [
            lambda buyer=buyer, i=i: place(
                merchant=merchant,
                customer=buyer,
                lines=[(second, 1), (first, 2)] if i % 2 else [(first, 2), (second, 1)],
            )
            for i, buyer in enumerate(buyers)
        ]
    )

    # then three orders take six units, one unit stays, and refused orders reserved nothing
    assert sum(outcome.error is None for outcome in outcomes) == 3
    assert {getattr(o.error, "code", None) for o in outcomes if o.error} == {"out_of_stock"}
    assert Sku.objects.get(pk=first.pk).stock == 1
    assert Sku.objects.get(pk=second.pk).stock == 97
