"""One stock pool: buyers of two stores racing for a supplied SKU's last units never oversell it."""

from decimal import Decimal

import pytest

from apps.core.errors import Conflict
from apps.orders.models import Order, OrderLine
from apps.suppliers.models import SupplySku
from tests.factories import MerchantFactory, SkuFactory, UserFactory
from tests.services.flows import place
from tests.suppliers.conftest import make_supplier, make_supply_product, pick

from .conftest import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_buyers_of_two_stores_racing_for_five_supplied_units_get_exactly_five():
    # given a supplier's five units, picked by two stores at different prices
    pool = make_supply_product(make_supplier(), stock=5)
    stores = [MerchantFactory(), MerchantFactory()]
    skus = [pick(stores[0], pool, "99.00"), pick(stores[1], pool, "105.00")]
    buyers = UserFactory.create_batch(20)

    # when ten buyers of each store order one unit at the same moment
    outcomes = race(
        [
            lambda i=i, buyer=buyer: place(
                merchant=stores[i % 2], customer=buyer, lines=[(skus[i % 2], 1)]
            )
            for i, buyer in enumerate(buyers)
        ]
    )

    # then exactly five orders exist across both stores and the pool is empty, never negative
    orders = [outcome.value for outcome in outcomes if outcome.error is None]
    refused = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert len(orders) == 5
    assert {(type(error), error.code) for error in refused} == {(Conflict, "out_of_stock")}
    assert SupplySku.objects.get(pk=pool.pk).stock == 0
    assert Order.objects.count() == 5
    assert OrderLine.objects.filter(supplier=pool.supplier).count() == 5
    assert {line.supply_unit_price for line in OrderLine.objects.all()} == {Decimal("60.00")}


def test_mixed_carts_locking_own_skus_and_pools_in_different_orders_never_deadlock():
    # given two pools and, in each of two stores, an own SKU; carts name them in opposite orders
    supplier = make_supplier()
    pools = [
        make_supply_product(supplier, stock=100, code="first"),
        make_supply_product(supplier, stock=100, code="second"),
    ]
    stores = [MerchantFactory(), MerchantFactory()]
    picked = {
        (store.pk, index): pick(store, pool) for store in stores for index, pool in enumerate(pools)
    }
    own = {store.pk: SkuFactory(product__merchant=store, stock=100) for store in stores}
    buyers = UserFactory.create_batch(12)

    def cart(i: int):
        store = stores[i % 2]
        lines = [(picked[(store.pk, 0)], 1), (own[store.pk], 1), (picked[(store.pk, 1)], 1)]
        return lines if i % 3 else list(reversed(lines))

    outcomes = race(
        [
            lambda i=i, buyer=buyer: place(merchant=stores[i % 2], customer=buyer, lines=cart(i))
            for i, buyer in enumerate(buyers)
        ]
    )

    assert [outcome.error for outcome in outcomes] == [None] * 12
    assert [SupplySku.objects.get(pk=pool.pk).stock for pool in pools] == [88, 88]
