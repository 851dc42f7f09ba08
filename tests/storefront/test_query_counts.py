"""Storefront pages cost the same number of queries whether they show 1 row or 10."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.commissions.services import commission_settle_orders
from apps.orders.models import Order
from apps.orders.services import order_place
from apps.programme.binding import customer_bind
from tests.factories import ProductFactory, SkuFactory, UserFactory

CATALOGUE_QUERIES = 2  # the store, the products with their lowest price and stock
PRODUCT_QUERIES = 4  # the store, the product, its SKUs, its running group buys
EARNINGS_QUERIES = (
    8  # user (the session is cached), store, distributor, wallet, reversed total, record count,
    # records, the last 30 days of commission (the chart)
)


def make_products(merchant, count: int) -> list:
    products = []
    for index in range(count):
        product = ProductFactory(merchant=merchant, name=f"Tea {index}")
        SkuFactory(product=product, price="30.00", stock=index)
        SkuFactory(product=product, price="20.00", stock=0)
        products.append(product)
    return products


@pytest.mark.parametrize("count", [1, 10])
def test_catalogue_query_count_does_not_grow_with_products(
    client, merchant, django_assert_num_queries, count
):
    make_products(merchant, count)
    url = reverse("storefront:catalogue", kwargs={"slug": merchant.slug})

    with django_assert_num_queries(CATALOGUE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["products"]) == count
    assert response.content.decode().count('data-test="price">from ¥20.00<') == count


@pytest.mark.parametrize("count", [1, 10])
def test_product_page_query_count_does_not_grow_with_skus(
    client, merchant, django_assert_num_queries, count
):
    product = ProductFactory(merchant=merchant)
    for index in range(count):
        SkuFactory(product=product, name=f"Size {index}", price=f"{10 + index}.00", stock=5)
    url = reverse("storefront:product", kwargs={"slug": merchant.slug, "product_id": product.pk})

    with django_assert_num_queries(PRODUCT_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["product"].skus_on_sale) == count
    assert response.content.decode().count('name="sku"') == count


def settle_order_with_lines(*, merchant, distributor, line_count: int, recipient) -> Order:
    customer = UserFactory()
    customer_bind(merchant=merchant, customer=customer, invite_code=distributor.invite_code)
    skus = [SkuFactory(product__merchant=merchant, price="50.00") for _ in range(line_count)]
    order = order_place(
        merchant=merchant,
        customer=customer,
        lines=[(sku.pk, 1) for sku in skus],
        recipient=recipient,
    )
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.COMPLETED,
        commission_status=Order.CommissionStatus.PENDING,
        completed_at=timezone.now(),
    )
    assert commission_settle_orders(order_id=order.pk) == line_count
    return order


@pytest.mark.parametrize("count", [1, 10])
def test_earnings_page_query_count_does_not_grow_with_records(
    distributor_client, merchant, distributor, recipient, django_assert_num_queries, count
):
    settle_order_with_lines(
        merchant=merchant, distributor=distributor, line_count=count, recipient=recipient
    )
    url = reverse("storefront:distributor-earnings", kwargs={"slug": merchant.slug})

    with django_assert_num_queries(EARNINGS_QUERIES):
        response = distributor_client.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('data-test="commission-record"') == count
    # each record says how it was calculated (10 % of 50.00 per line)
    assert content.count("Merchant default percent: 10.00% of 50.00 paid → 5.00") == count
    assert f'data-test="wallet-frozen">¥{5 * count}.00<' in content
