"""Agency mode through the API: price control on resale prices, micro-shop prices in the cart and
orders, crafted prices ignored, the total shown, and the merchant's tier prices and SKU bounds."""

from decimal import Decimal

import pytest

from apps.distributors.agency import distributor_price_set, tier_price_create
from apps.distributors.models import DistributorPrice, ProgrammeSettings, Tier, TierSkuPrice
from apps.distributors.services import distributor_join
from apps.orders.models import Order, OrderLine
from apps.products.models import Sku
from apps.products.services import sku_update
from tests.factories import SkuFactory, UserFactory

from .conftest import api_url, client_for

D = Decimal
RECIPIENT = {"recipient_name": "Li", "recipient_phone": "138", "shipping_address": "1 Road"}


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


@pytest.fixture
def seller(merchant):
    return distributor_join(merchant=merchant, user=UserFactory())


def test_the_price_sheet(merchant, agency_sku, seller):
    distributor_price_set(distributor=seller, sku_id=agency_sku.pk, price="120.00")
    response = client_for(seller.user).get(api_url("store-agency-price-list", store=merchant.slug))
    assert response.status_code == 200
    assert response.json() == [
        {
            "sku": agency_sku.pk,
            "product": agency_sku.product_id,
            "product_name": agency_sku.product.name,
            "sku_name": agency_sku.name,
            "store_price": "100.00",
            "purchase_price": "60.00",
            "lowest": "80.00",
            "highest": "150.00",
            "my_price": "120.00",
            "price": "120.00",
            "margin": "60.00",
        }
    ]


@pytest.mark.parametrize(
    ("price", "code"),
    [("79.99", "below_floor"), ("150.01", "above_ceiling"), ("1e999", "invalid_price")],
)
def test_the_floor_and_ceiling_are_enforced_on_the_api(merchant, agency_sku, seller, price, code):
    url = api_url("store-agency-price-list", store=merchant.slug)
    response = client_for(seller.user).post(
        url, {"sku": agency_sku.pk, "price": price}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert DistributorPrice.objects.count() == 0


def test_set_and_clear_a_price(merchant, agency_sku, seller):
    client = client_for(seller.user)
    url = api_url("store-agency-price-list", store=merchant.slug)
    response = client.post(url, {"sku": agency_sku.pk, "price": "99.90"}, format="json")
    assert response.status_code == 200
    assert (response.json()["price"], response.json()["margin"]) == ("99.90", "39.90")
    detail = api_url("store-agency-price-detail", store=merchant.slug, pk=agency_sku.pk)
    assert client.delete(detail).status_code == 204
    assert DistributorPrice.objects.count() == 0


def test_a_consumer_is_no_distributor(merchant, agency_sku, customer):
    url = api_url("store-agency-price-list", store=merchant.slug)
    response = client_for(customer).post(url, {"sku": agency_sku.pk, "price": "99"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_a_distributor"


def test_micro_shop_catalogue_is_public_and_priced(
    merchant, agency_sku, seller, django_assert_num_queries
):
    distributor_price_set(distributor=seller, sku_id=agency_sku.pk, price="120.00")
    url = api_url("store-micro-shop-product-list", store=merchant.slug, code=seller.invite_code)
    with django_assert_num_queries(8):
        response = client_for(None).get(url)
    assert [sku["price"] for sku in response.json()[0]["skus"]] == ["120.00"]


def test_a_crafted_cart_post_with_a_price_is_priced_by_the_shop(
    merchant, agency_sku, seller, customer
):
    distributor_price_set(distributor=seller, sku_id=agency_sku.pk, price="120.00")
    shopper = client_for(customer)
    added = shopper.post(
        api_url("store-cart-item-list", store=merchant.slug),
        {
            "sku": agency_sku.pk,
            "quantity": 1,
            "shop": seller.invite_code,
            "price": "0.01",
            "unit_price": "0.01",
        },
        format="json",
    )
    assert added.status_code == 201
    assert (added.json()["unit_price"], added.json()["shop"]) == ("120.00", seller.invite_code)
    placed = shopper.post(
        api_url("store-order-list", store=merchant.slug),
        {**RECIPIENT, "expected_total": "120.00", "goods_amount": "0.01"},
        format="json",
    )
    assert placed.status_code == 201
    assert placed.json()["payable_amount"] == "120.00"
    assert list(OrderLine.objects.values_list("agency_distributor", "agency_unit_cost")) == [
        (seller.pk, D("60.00"))
    ]


def test_explicit_lines_from_a_micro_shop_never_go_below_a_raised_floor(
    merchant, agency_sku, seller, customer
):
    distributor_price_set(distributor=seller, sku_id=agency_sku.pk, price="80.00")
    sku_update(merchant=merchant, sku_id=agency_sku.pk, min_resale_price="90.00")
    response = client_for(customer).post(
        api_url("store-order-list", store=merchant.slug),
        {**RECIPIENT, "shop": seller.invite_code, "lines": [{"sku": agency_sku.pk, "quantity": 2}]},
        format="json",
    )
    assert response.status_code == 201
    assert [line["unit_price"] for line in response.json()["lines"]] == ["90.00"]


def test_a_changed_total_is_a_409(merchant, agency_sku, seller, customer):
    response = client_for(customer).post(
        api_url("store-order-list", store=merchant.slug),
        {
            **RECIPIENT,
            "shop": seller.invite_code,
            "expected_total": "80.00",
            "lines": [{"sku": agency_sku.pk, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "prices_changed"
    assert Order.objects.count() == 0
    assert Sku.objects.get(pk=agency_sku.pk).stock == 20


def test_an_unknown_shop_code_is_404(merchant, agency_sku, customer):
    response = client_for(customer).post(
        api_url("store-cart-item-list", store=merchant.slug),
        {"sku": agency_sku.pk, "quantity": 1, "shop": "ZZZZZZZZ"},
        format="json",
    )
    assert response.status_code == 404


def test_staff_tier_price_crud(merchant, staff_user, agency_sku):
    office = client_for(staff_user)
    gold = Tier.objects.create(merchant=merchant, name="Gold", rank=1)
    created = office.post(
        api_url("merchant-tier-price-list"),
        {"tier": gold.pk, "sku": agency_sku.pk, "purchase_price": "55.50"},
        format="json",
    )
    assert created.status_code == 201
    row = TierSkuPrice.objects.get(tier=gold)
    assert created.json() == {
        "id": row.pk, "tier": gold.pk, "sku": agency_sku.pk, "purchase_price": "55.50",
    }  # fmt: skip
    again = office.post(
        api_url("merchant-tier-price-list"),
        {"tier": gold.pk, "sku": agency_sku.pk, "purchase_price": "1.00"},
        format="json",
    )
    assert (again.status_code, again.json()["code"]) == (400, "tier_price_taken")
    detail = api_url("merchant-tier-price-detail", pk=row.pk)
    bad = office.patch(detail, {"purchase_price": "-1"}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_price")
    assert (
        office.patch(detail, {"purchase_price": "52.00"}, format="json").json()["purchase_price"]
        == "52.00"
    )
    assert office.delete(detail).status_code == 204
    assert TierSkuPrice.objects.filter(tier=gold).count() == 0


def test_sku_floor_and_ceiling_through_the_api(merchant, staff_user, agency_sku):
    office = client_for(staff_user)
    detail = api_url("merchant-sku-detail", pk=agency_sku.pk)
    refused = office.patch(detail, {"min_resale_price": "120.00"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "price_below_floor")
    refused = office.patch(
        detail, {"min_resale_price": "90.00", "max_resale_price": "85.00"}, format="json"
    )
    assert refused.status_code == 400
    ok = office.patch(
        detail, {"min_resale_price": "95.00", "max_resale_price": None}, format="json"
    )
    assert ok.status_code == 200
    assert (ok.json()["min_resale_price"], ok.json()["max_resale_price"]) == ("95.00", None)
