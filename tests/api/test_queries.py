"""List endpoints cost the same number of queries for 1 row as for 10 (no N+1).

Callers authenticate with a token, as integrators do, so each request loads its user afresh (the
token lookup is one query) and nothing is cached between requests.
"""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.commissions.services import commission_settle_orders
from apps.distributors.services import distributor_join
from apps.orders.services import order_confirm_receipt, order_ship
from apps.programme.binding import customer_bind
from tests.factories import SkuFactory, UserFactory
from tests.services.flows import paid_order, place

from .conftest import api_url


def token_client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def completed_orders(merchant, staff_user, sku, buyer, count):  # type: ignore[no-untyped-def]
    for _ in range(count):
        order = paid_order(merchant=merchant, customer=buyer, lines=[(sku, 1)])
        order_ship(
            merchant=merchant,
            order_id=order.pk,
            carrier="SF",
            tracking_number="1",
            actor=staff_user,
        )
        order_confirm_receipt(merchant=merchant, customer=buyer, order_id=order.pk)
        commission_settle_orders(order_id=order.pk)


@pytest.mark.parametrize("rows", [1, 10])
def test_store_product_list(merchant, django_assert_num_queries, rows):
    for _ in range(rows):
        product = SkuFactory(product__merchant=merchant).product
        SkuFactory(product=product)
    client = APIClient()
    # store, count, products, their SKUs on sale
    with django_assert_num_queries(4):
        response = client.get(api_url("store-product-list", store=merchant.slug))
    assert response.json()["count"] == rows
    assert [len(row["skus"]) for row in response.json()["results"]] == [2] * rows


@pytest.mark.parametrize("rows", [1, 10])
def test_merchant_order_list(merchant, staff_user, sku, django_assert_num_queries, rows):
    for _ in range(rows):
        paid_order(merchant=merchant, customer=UserFactory(), lines=[(sku, 2)])
    client = token_client(staff_user)
    # token+user, staff's merchant, count, orders+customers, lines, their price breakdown, history,
    # whether the caller may see phones in full (once per request)
    with django_assert_num_queries(8):
        response = client.get(api_url("merchant-order-list"))
    assert response.json()["count"] == rows
    assert [len(row["history"]) for row in response.json()["results"]] == [2] * rows


@pytest.mark.parametrize("rows", [1, 10])
def test_customer_order_list(merchant, customer, sku, django_assert_num_queries, rows):
    for _ in range(rows):
        place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    client = token_client(customer)
    # token+user, store, count, orders, lines, their price breakdown
    with django_assert_num_queries(6):
        response = client.get(api_url("store-order-list", store=merchant.slug))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_cart(merchant, customer, django_assert_num_queries, rows):
    client = token_client(customer)
    for _ in range(rows):
        sku = SkuFactory(product__merchant=merchant)
        client.post(
            api_url("store-cart-item-list", store=merchant.slug), {"sku": sku.pk, "quantity": 1}
        )
    # token+user, store, the cart's items with SKUs and products; the pricing pipeline's one read
    # of what is on offer (flash sales, limited-time prices, full reductions, the caller's
    # coupons, membership): nothing is, so no step runs its own query
    with django_assert_num_queries(4):
        response = client.get(api_url("store-cart", store=merchant.slug))
    assert response.json()["quantity"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_merchant_product_list(merchant, staff_user, django_assert_num_queries, rows):
    for _ in range(rows):
        SkuFactory(product__merchant=merchant)
    client = token_client(staff_user)
    # token+user, staff's merchant, count, products, SKUs
    with django_assert_num_queries(5):
        response = client.get(api_url("merchant-product-list"))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_merchant_sku_list(merchant, staff_user, django_assert_num_queries, rows):
    for _ in range(rows):
        SkuFactory(product__merchant=merchant)
    client = token_client(staff_user)
    # token+user, staff's merchant, count, SKUs
    with django_assert_num_queries(4):
        response = client.get(api_url("merchant-sku-list"))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_merchant_distributor_list(merchant, staff_user, django_assert_num_queries, rows):
    root = distributor_join(merchant=merchant, user=UserFactory())
    for _ in range(rows - 1):
        distributor_join(merchant=merchant, user=UserFactory(), invite_code=root.invite_code)
    client = token_client(staff_user)
    # token+user, staff's merchant, count, distributors with users and parents
    with django_assert_num_queries(4):
        response = client.get(api_url("merchant-distributor-list"))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_commission_lists(merchant, staff_user, sku, chain, django_assert_num_queries, rows):
    buyer = UserFactory()
    customer_bind(merchant=merchant, customer=buyer, invite_code=chain[3].invite_code)
    completed_orders(merchant, staff_user, sku, buyer, rows)
    office = token_client(staff_user)
    distributor = token_client(chain[3].user)
    # token+user, staff's merchant, count, records with orders, lines, beneficiaries and users
    with django_assert_num_queries(4):
        merchant_side = office.get(api_url("merchant-commission-list"))
    # token+user, store, count, records with orders and lines
    with django_assert_num_queries(4):
        distributor_side = distributor.get(api_url("store-commission-list", store=merchant.slug))
    assert merchant_side.json()["count"] == 3 * rows
    assert distributor_side.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_team(merchant, chain, django_assert_num_queries, rows):
    for _ in range(rows - 1):
        distributor_join(merchant=merchant, user=UserFactory(), invite_code=chain[0].invite_code)
    client = token_client(chain[0].user)
    # constant: auth, store, own profile, team counts, upline, own sales (5 in all)
    with django_assert_num_queries(5):
        response = client.get(api_url("store-distributor-team", store=merchant.slug))
    assert response.json()["team_size"] == rows + 2
    # token+user, store, own profile, page count, members with sales, recruits and team sizes
    with django_assert_num_queries(5):
        response = client.get(api_url("store-distributor-team-members", store=merchant.slug))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_commission_override_and_bonus_tier_lists(
    merchant, staff_user, django_assert_num_queries, rows
):
    from apps.commissions.models import BonusTier, CommissionOverride

    for index in range(rows):
        CommissionOverride.objects.create(
            merchant=merchant,
            sku=SkuFactory(product__merchant=merchant),
            mode="fixed",
            level1_value=1,
        )
        BonusTier.objects.create(
            merchant=merchant,
            plan=merchant.commission_plan,
            monthly_sales_threshold=100 + index,
            extra_percent=1,
        )
    client = token_client(staff_user)
    # token+user, staff's merchant, count, rows
    with django_assert_num_queries(4):
        overrides = client.get(api_url("merchant-commission-override-list"))
    with django_assert_num_queries(4):
        tiers = client.get(api_url("merchant-bonus-tier-list"))
    assert overrides.json()["count"] == tiers.json()["count"] == rows
