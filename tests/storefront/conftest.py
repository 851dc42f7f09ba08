import pytest
from django.urls import reverse

from apps.distributors.services import distributor_join
from apps.orders.services import cart_add_item, order_place
from tests.factories import SkuFactory, UserFactory


@pytest.fixture
def store_url(merchant):
    def build(name: str, **kwargs) -> str:
        return reverse(f"storefront:{name}", kwargs={"slug": merchant.slug, **kwargs})

    return build


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def distributor(merchant):
    return distributor_join(merchant=merchant, user=UserFactory(username="dist-alice"))


@pytest.fixture
def distributor_client(client, distributor):
    client.force_login(distributor.user)
    return client


@pytest.fixture
def other_sku(other_merchant):
    return SkuFactory(product__merchant=other_merchant)


@pytest.fixture
def place_order(recipient):
    """Place an order for ``customer`` of one unit of ``sku`` in its merchant's store."""

    def place(*, customer, sku, quantity: int = 1):
        return order_place(
            merchant=sku.merchant,
            customer=customer,
            lines=[(sku.pk, quantity)],
            recipient=recipient,
        )

    return place


@pytest.fixture
def fill_cart():
    def fill(*, customer, sku, quantity: int = 1):
        return cart_add_item(
            merchant=sku.merchant, customer=customer, sku_id=sku.pk, quantity=quantity
        )

    return fill
