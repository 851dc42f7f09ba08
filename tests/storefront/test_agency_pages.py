"""Agency mode pages: the micro-shop, adding to the cart from it, checkout, and "my shop"."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.distributors.agency import distributor_price_set, tier_price_create
from apps.distributors.models import Distributor, DistributorPrice, ProgrammeSettings
from apps.orders.models import CartItem, Order, OrderLine
from apps.products.services import sku_update
from tests.factories import ProductFactory, SkuFactory, UserFactory

D = Decimal


@pytest.fixture
def agency_sku(merchant):
    ProgrammeSettings.objects.create(merchant=merchant, agency_enabled=True)
    sku = SkuFactory(
        product__merchant=merchant,
        price=D("100.00"),
        stock=20,
        min_resale_price=D("80.00"),
        max_resale_price=D("150.00"),
    )
    tier_price_create(merchant=merchant, tier_id=None, sku_id=sku.pk, purchase_price="60.00")
    return sku


def shop_url(merchant, distributor, product_id=None):
    if product_id is None:
        return reverse(
            "storefront:micro-shop", kwargs={"slug": merchant.slug, "code": distributor.invite_code}
        )
    return reverse(
        "storefront:micro-shop-product",
        kwargs={"slug": merchant.slug, "code": distributor.invite_code, "product_id": product_id},
    )


def test_the_micro_shop_shows_the_distributors_prices(client, merchant, agency_sku, distributor):
    distributor_price_set(distributor=distributor, sku_id=agency_sku.pk, price="120.00")

    page = client.get(shop_url(merchant, distributor)).content.decode()
    assert 'data-test="price">from ¥120.00<' in page
    product = client.get(shop_url(merchant, distributor, agency_sku.product_id)).content.decode()
    assert f'data-test="sku-price-{agency_sku.pk}">¥120.00<' in product


def test_agency_off_shows_store_prices(client, merchant, agency_sku, distributor):
    distributor_price_set(distributor=distributor, sku_id=agency_sku.pk, price="120.00")
    ProgrammeSettings.objects.filter(merchant=merchant).update(agency_enabled=False)
    page = client.get(shop_url(merchant, distributor)).content.decode()
    assert 'data-test="price">from ¥100.00<' in page


def test_unknown_suspended_or_foreign_shops_are_404(client, merchant, other_merchant, distributor):
    foreign = Distributor.objects.create(
        merchant=other_merchant,
        user=UserFactory(),
        invite_code="ABCDEFGH",
        tree_id=999,
        lft=1,
        rght=2,
        level=0,
    )
    for code in ("ZZZZZZZZ", "bad!", foreign.invite_code):
        url = reverse("storefront:micro-shop", kwargs={"slug": merchant.slug, "code": code})
        assert client.get(url).status_code == 404
    Distributor.objects.filter(pk=distributor.pk).update(status=Distributor.Status.SUSPENDED)
    assert client.get(shop_url(merchant, distributor)).status_code == 404


def test_a_product_of_another_store_is_404_in_the_micro_shop(
    client, merchant, distributor, other_sku
):
    assert client.get(shop_url(merchant, distributor, other_sku.product_id)).status_code == 404


def test_adding_from_the_micro_shop_orders_at_the_resale_price(
    signed_in, merchant, agency_sku, distributor, customer
):
    distributor_price_set(distributor=distributor, sku_id=agency_sku.pk, price="120.00")
    url = shop_url(merchant, distributor, agency_sku.product_id)

    # a crafted post naming its own price: the price is never read from the request
    response = signed_in.post(
        url, {"sku": agency_sku.pk, "quantity": 2, "price": "0.01", "unit_price": "0.01"}
    )
    assert response.status_code == 302
    assert list(CartItem.objects.values_list("agency_distributor", "quantity")) == [
        (distributor.pk, 2)
    ]
    cart = signed_in.get(reverse("storefront:cart", kwargs={"slug": merchant.slug}))
    assert 'data-test="cart-total">¥240.00<' in cart.content.decode()

    checkout_url = reverse("storefront:checkout", kwargs={"slug": merchant.slug})
    form = {
        "recipient_name": "Li Lei",
        "recipient_phone": "13800000000",
        "shipping_address": "1 Nanjing Road",
        "expected_total": "240.00",
    }
    assert signed_in.post(checkout_url, form).status_code == 302
    order = Order.objects.get()
    assert order.payable_amount == D("240.00")
    assert list(
        OrderLine.objects.values_list(
            "unit_price", "paid_amount", "agency_distributor", "agency_unit_cost"
        )
    ) == [(D("120.00"), D("240.00"), distributor.pk, D("60.00"))]


def test_checkout_after_a_raised_floor_asks_to_review_the_cart(
    signed_in, merchant, agency_sku, distributor
):
    distributor_price_set(distributor=distributor, sku_id=agency_sku.pk, price="85.00")
    signed_in.post(
        shop_url(merchant, distributor, agency_sku.product_id),
        {"sku": agency_sku.pk, "quantity": 1},
    )
    checkout_url = reverse("storefront:checkout", kwargs={"slug": merchant.slug})
    assert 'value="85.00"' in signed_in.get(checkout_url).content.decode()
    sku_update(merchant=merchant, sku_id=agency_sku.pk, min_resale_price="90.00")

    response = signed_in.post(
        checkout_url,
        {
            "recipient_name": "Li Lei",
            "recipient_phone": "13800000000",
            "shipping_address": "1 Nanjing Road",
            "expected_total": "85.00",
        },
    )
    assert response.status_code == 409
    assert "review your cart" in response.content.decode()
    assert 'value="90.00"' in response.content.decode()  # the page now shows the price in force
    assert Order.objects.count() == 0


def test_a_crafted_checkout_total_below_the_price_places_nothing(
    signed_in, merchant, agency_sku, distributor
):
    signed_in.post(
        shop_url(merchant, distributor, agency_sku.product_id),
        {"sku": agency_sku.pk, "quantity": 1},
    )
    checkout_url = reverse("storefront:checkout", kwargs={"slug": merchant.slug})
    form = {"recipient_name": "Li", "recipient_phone": "1", "shipping_address": "x"}
    assert signed_in.post(checkout_url, {**form, "expected_total": "0.01"}).status_code == 409
    assert signed_in.post(checkout_url, {**form, "expected_total": "1e999"}).status_code == 400
    assert Order.objects.count() == 0


# --- my shop ----------------------------------------------------------------------------------


def my_shop_url(merchant):
    return reverse("storefront:distributor-shop", kwargs={"slug": merchant.slug})


def test_my_shop_shows_the_range_and_margin(distributor_client, merchant, agency_sku):
    page = distributor_client.get(my_shop_url(merchant)).content.decode()
    assert 'data-test="cost">60.00<' in page
    assert 'data-test="range">¥80.00 – ¥150.00<' in page
    assert 'data-test="margin">¥40.00<' in page


def test_my_shop_saves_a_price_in_range(distributor_client, merchant, agency_sku, distributor):
    response = distributor_client.post(
        my_shop_url(merchant), {"sku": agency_sku.pk, "price": "125.50"}
    )
    assert response.status_code == 302
    assert DistributorPrice.objects.get().price == D("125.50")
    page = distributor_client.get(my_shop_url(merchant)).content.decode()
    assert 'data-test="margin">¥65.50<' in page
    distributor_client.post(my_shop_url(merchant), {"sku": agency_sku.pk, "clear": "1"})
    assert DistributorPrice.objects.count() == 0


@pytest.mark.parametrize(
    ("price", "message"),
    [("79.99", "at least ¥80.00"), ("150.01", "at most ¥150.00"), ("", "decimal amount")],
)
def test_my_shop_refuses_a_price_out_of_range_inline(
    distributor_client, merchant, agency_sku, price, message
):
    response = distributor_client.post(
        my_shop_url(merchant), {"sku": agency_sku.pk, "price": price}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-test="error-{agency_sku.pk}">' in page
    assert message in page
    assert DistributorPrice.objects.count() == 0


def test_my_shop_with_another_stores_sku_is_404(distributor_client, merchant, other_sku):
    response = distributor_client.post(
        my_shop_url(merchant), {"sku": other_sku.pk, "price": "100.00"}
    )
    assert response.status_code == 404
    assert DistributorPrice.objects.count() == 0


def test_the_share_page_links_the_micro_shop(distributor_client, merchant, distributor):
    url = reverse("storefront:distributor-share", kwargs={"slug": merchant.slug})
    page = distributor_client.get(url).content.decode()
    assert f"/s/{merchant.slug}/m/{distributor.invite_code}/?ref={distributor.invite_code}" in page


# --- query counts -----------------------------------------------------------------------------


MICRO_SHOP_QUERIES = 8  # store, shop, products, SKUs, settings, shop again, costs, own prices
MY_SHOP_QUERIES = (
    7  # user (the session is cached), store, distributor, SKUs, costs, own prices, settings
)


def _products(merchant, distributor, count):
    for index in range(count):
        sku = SkuFactory(product=ProductFactory(merchant=merchant), price="50.00")
        tier_price_create(merchant=merchant, tier_id=None, sku_id=sku.pk, purchase_price="30.00")
        distributor_price_set(distributor=distributor, sku_id=sku.pk, price=f"{60 + index}.00")


@pytest.mark.parametrize("count", [1, 6])
def test_micro_shop_queries_do_not_grow(
    client, merchant, distributor, count, django_assert_num_queries
):
    ProgrammeSettings.objects.create(merchant=merchant, agency_enabled=True)
    _products(merchant, distributor, count)
    with django_assert_num_queries(MICRO_SHOP_QUERIES):
        response = client.get(shop_url(merchant, distributor))
    assert len(response.context["products"]) == count
    assert "from ¥60.00" in response.content.decode()


@pytest.mark.parametrize("count", [1, 6])
def test_my_shop_queries_do_not_grow(
    distributor_client, merchant, distributor, count, django_assert_num_queries
):
    ProgrammeSettings.objects.create(merchant=merchant, agency_enabled=True)
    _products(merchant, distributor, count)
    with django_assert_num_queries(MY_SHOP_QUERIES):
        response = distributor_client.get(my_shop_url(merchant))
    assert len(response.context["rows"]) == count
