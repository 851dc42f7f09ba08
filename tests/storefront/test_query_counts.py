"""Storefront pages cost the same number of queries whether they show 1 row or 10."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.commissions.services import commission_settle_orders
from apps.orders.models import Order
from apps.orders.services import order_place
from apps.programme.binding import customer_bind
from tests.factories import ProductFactory, SkuFactory, UserFactory

# the store, the products with their lowest price and stock; their SKUs on sale and what is on
# offer for them (the prices this visitor pays: one statement while nothing is)
CATALOGUE_QUERIES = 4
PRODUCT_QUERIES = 5  # the store, the product, its SKUs, its running group buys, what is on offer
EARNINGS_QUERIES = (
    6  # user (the session is cached), store, the distributor with their wallet and the fingerprint
    # of the records and reversals (and the reversed total), record count, records, the last 30
    # days of commission (the chart)
)
# the page kept in the cache: user, store, the distributor with the wallet and its fingerprint
EARNINGS_CACHED_QUERIES = 3


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


def test_earnings_page_comes_from_the_cache_until_the_ledger_moves(
    distributor_client, merchant, distributor, recipient, django_assert_num_queries
):
    settle_order_with_lines(
        merchant=merchant, distributor=distributor, line_count=1, recipient=recipient
    )
    url = reverse("storefront:distributor-earnings", kwargs={"slug": merchant.slug})
    first = distributor_client.get(url)
    assert 'data-test="wallet-frozen">¥5.00<' in first.content.decode()

    # the same page again: from the cache, the visitor's own CSRF token in it
    with django_assert_num_queries(EARNINGS_CACHED_QUERIES):
        again = distributor_client.get(url)
    assert again.status_code == 200
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub("", again.content.decode()) == token.sub("", first.content.decode())
    assert "__fenxiao_csrf_token__" not in again.content.decode()

    # a new commission moves the fingerprint: the page shows it at once
    settle_order_with_lines(
        merchant=merchant, distributor=distributor, line_count=2, recipient=recipient
    )
    with django_assert_num_queries(EARNINGS_QUERIES):
        fresh = distributor_client.get(url)
    content = fresh.content.decode()
    assert 'data-test="wallet-frozen">¥15.00<' in content
    assert content.count('data-test="commission-record"') == 3


def test_earnings_page_kept_in_the_cache_is_never_another_distributors(
    client, merchant, distributor, recipient
):
    from apps.distributors.services import distributor_join

    settle_order_with_lines(
        merchant=merchant, distributor=distributor, line_count=1, recipient=recipient
    )
    url = reverse("storefront:distributor-earnings", kwargs={"slug": merchant.slug})
    client.force_login(distributor.user)
    assert 'data-test="wallet-frozen">¥5.00<' in client.get(url).content.decode()

    other = distributor_join(merchant=merchant, user=UserFactory())
    client.force_login(other.user)
    content = client.get(url).content.decode()
    assert 'data-test="wallet-frozen">¥0.00<' in content
    assert other.invite_code in content and distributor.invite_code not in content
