"""The pipeline through the interfaces: the API's cart and order, the storefront's checkout."""

from decimal import Decimal

from django.urls import reverse

from apps.marketing.models import CouponGrant
from apps.orders.models import Order
from apps.orders.services import cart_add_item
from tests.api.conftest import api_url
from tests.api.test_queries import token_client
from tests.factories import SkuFactory

from . import factories as f

D = Decimal


def test_api_cart_shows_savings_and_order_uses_the_chosen_coupon_and_points(merchant, customer):
    sku = SkuFactory(product__merchant=merchant, price=D("80.00"), stock=5)
    f.member(merchant, customer, discount="10", points=500)
    grant = f.granted(merchant, customer)
    client = token_client(customer)
    client.post(
        api_url("store-cart-item-list", store=merchant.slug), {"sku": sku.pk, "quantity": 1}
    )

    cart = client.get(api_url("store-cart", store=merchant.slug)).json()
    assert (cart["total"], cart["payable"], cart["coupon"]) == ("80.00", "62.00", grant.pk)
    assert [s["step"] for s in cart["savings"]] == ["member", "coupon"]
    assert cart["points_max"] == 500

    response = client.post(
        api_url("store-order-list", store=merchant.slug),
        {
            "recipient_name": "Li",
            "recipient_phone": "1",
            "shipping_address": "x",
            "coupon": str(grant.pk),
            "points": 200,
            "expected_total": "60.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["discount_amount"], body["payable_amount"]) == ("20.00", "60.00")
    assert [(a["step"], a["amount"]) for a in body["lines"][0]["adjustments"]] == [
        ("member", "8.00"),
        ("coupon", "10.00"),
        ("points", "2.00"),
    ]


def test_api_refuses_a_foreign_coupon_as_absent_and_writes_nothing(
    merchant, other_merchant, customer
):
    sku = SkuFactory(product__merchant=merchant, price=D("80.00"), stock=5)
    foreign = f.granted(other_merchant, customer)
    client = token_client(customer)
    response = client.post(
        api_url("store-order-list", store=merchant.slug),
        {
            "recipient_name": "Li",
            "recipient_phone": "1",
            "shipping_address": "x",
            "lines": [{"sku": sku.pk, "quantity": 1}],
            "coupon": str(foreign.pk),
        },
        format="json",
    )
    assert response.status_code == 404
    assert Order.objects.count() == 0
    sku.refresh_from_db()
    assert sku.stock == 5
    assert CouponGrant.objects.get(pk=foreign.pk).status == "available"


def test_storefront_checkout_shows_savings_and_places_with_them(client, merchant, customer):
    sku = SkuFactory(product__merchant=merchant, price=D("80.00"), stock=5)
    f.member(merchant, customer, discount="10")
    grant = f.granted(merchant, customer)
    cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)
    client.force_login(customer)

    page = client.get(reverse("storefront:checkout", args=[merchant.slug]))
    html = page.content.decode()
    assert 'data-test="saving-member"' in html and 'data-test="saving-coupon"' in html
    assert 'name="expected_total" value="62.00"' in html

    response = client.post(
        reverse("storefront:checkout", args=[merchant.slug]),
        {
            "recipient_name": "Li",
            "recipient_phone": "1",
            "shipping_address": "x",
            "expected_total": "62.00",
            "coupon": str(grant.pk),
            "points": "0",
        },
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.payable_amount == D("62.00")
    page = client.get(reverse("storefront:order", args=[merchant.slug, order.pk]))
    html = page.content.decode()
    assert 'data-test="order-saving-member"' in html
    assert 'data-test="order-saving-coupon"' in html
