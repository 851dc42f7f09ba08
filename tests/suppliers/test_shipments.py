"""An order with supplied lines splits into parcels per supplier; the order ships with the last."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.errors import Conflict, DomainError
from apps.dropship.models import Shipment
from apps.dropship.services import shipment_ship
from apps.orders.models import Order
from apps.orders.services import order_ship
from tests.factories import MerchantFactory, SkuFactory, UserFactory
from tests.services.flows import pay, place

from .conftest import make_supplier, make_supply_product, pick

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(merchant, supplier):
    own = SkuFactory(product__merchant=merchant, price=Decimal("30.00"), stock=5)
    tea = pick(merchant, make_supply_product(supplier))
    fruit = pick(merchant, make_supply_product(make_supplier("fruit-farm")))
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(own, 1), (tea, 1), (fruit, 2)])
    pay(merchant=merchant, customer=customer, order=order)
    return order


def test_paying_opens_one_parcel_per_supplier_and_one_for_the_stores_own_goods(paid_order):
    shipments = Shipment.objects.filter(order=paid_order).order_by("id")

    assert [(s.supplier.slug if s.supplier else None, s.status) for s in shipments] == [
        (None, "pending"),
        ("tea-farm", "pending"),
        ("fruit-farm", "pending"),
    ]
    assert [
        [(line.order_line.supplier_id, line.order_line.quantity) for line in s.lines.all()]
        for s in shipments
    ] == [[(None, 1)], [(shipments[1].supplier_id, 1)], [(shipments[2].supplier_id, 2)]]
    assert sum(s.lines.count() for s in shipments) == 3


def test_the_order_ships_when_its_last_parcel_does(paid_order, merchant):
    own, tea, fruit = Shipment.objects.filter(order=paid_order).order_by("id")
    with pytest.raises(Conflict) as whole:
        order_ship(
            merchant=merchant, order_id=paid_order.pk, carrier="SF", tracking_number="1", actor=None
        )
    assert whole.value.code == "ship_by_parcel"
    with pytest.raises(DomainError):
        shipment_ship(shipment=tea, carrier="SF", tracking_number=" ", actor=None)

    shipment_ship(shipment=tea, carrier="SF Express", tracking_number="SF100", actor=None)
    shipment_ship(shipment=own, carrier="YTO", tracking_number="YT200", actor=None)
    assert Order.objects.get(pk=paid_order.pk).status == Order.Status.PAID
    with pytest.raises(Conflict):
        shipment_ship(shipment=tea, carrier="SF", tracking_number="again", actor=None)

    shipment_ship(shipment=fruit, carrier="ZTO", tracking_number="ZT300", actor=None)

    order = Order.objects.get(pk=paid_order.pk)
    assert order.status == Order.Status.SHIPPED
    assert (order.shipping_carrier, order.tracking_number) == (
        "YTO / SF Express / ZTO",
        "YT200 / SF100 / ZT300",
    )
    assert list(
        Shipment.objects.filter(order=order)
        .order_by("id")
        .values_list("tracking_number", flat=True)
    ) == ["YT200", "SF100", "ZT300"]


def test_an_order_of_own_goods_only_ships_as_before(merchant):
    own = SkuFactory(product__merchant=merchant, stock=5)
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=[(own, 1)])
    pay(merchant=merchant, customer=customer, order=order)

    assert not Shipment.objects.filter(order=order).exists()
    order_ship(merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="9", actor=None)
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED


def test_the_consumer_sees_each_parcel_of_the_order(paid_order, merchant, client):
    _own, tea, _fruit = Shipment.objects.filter(order=paid_order).order_by("id")
    shipment_ship(shipment=tea, carrier="SF Express", tracking_number="SF100", actor=None)
    client.force_login(paid_order.customer)

    page = client.get(
        reverse("storefront:order", kwargs={"slug": merchant.slug, "order_id": paid_order.pk})
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert text.count('data-test="parcel"') == 3
    assert "Shipped by tea-farm Co." in text and "Shipped by fruit-farm Co." in text
    assert "Shipped by the store" in text
    assert "SF100" in text
    assert text.count('data-status="pending"') == 2


def test_the_product_page_shows_the_suppliers_stock(merchant, client):
    pool = make_supply_product(make_supplier("honey-farm"), stock=7)
    sku = pick(merchant, pool)

    page = client.get(
        reverse("storefront:product", kwargs={"slug": merchant.slug, "product_id": sku.product_id})
    )

    assert page.status_code == 200
    assert "7 left" in page.content.decode()


def test_the_store_sees_revenue_supply_cost_fee_and_margin_per_order(paid_order, merchant):
    from apps.dropship.selectors import order_margins

    other = MerchantFactory()
    own = SkuFactory(product__merchant=other, stock=5)
    customer = UserFactory()
    pay(
        merchant=other,
        customer=customer,
        order=place(merchant=other, customer=customer, lines=[(own, 1)]),
    )

    [margin] = order_margins(merchant=merchant)

    # 30.00 own + 99.00 tea + 2 × 99.00 fruit = 327.00 paid; supply 60 + 2 × 60; fee 1 % = 3.27
    assert (margin.order_id, margin.revenue, margin.supply_cost, margin.platform_fee) == (
        paid_order.pk,
        Decimal("327.00"),
        Decimal("180.00"),
        Decimal("3.27"),
    )
    assert (margin.commission, margin.margin) == (Decimal("0"), Decimal("143.73"))
