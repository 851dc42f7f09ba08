"""Each storefront page renders what it should, and stays inside its own store."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.merchants.models import Merchant
from apps.orders.models import CartItem, Order
from apps.products.models import Sku
from tests.factories import MerchantFactory, ProductFactory, SkuFactory, UserFactory


def test_home_lists_active_stores_and_links_to_apply(client, merchant):
    MerchantFactory(name="Closed Shop", status=Merchant.Status.SUSPENDED)

    response = client.get(reverse("storefront:home"))

    content = response.content.decode()
    assert response.status_code == 200
    assert merchant.name in content
    assert reverse("storefront:catalogue", kwargs={"slug": merchant.slug}) in content
    assert "Closed Shop" not in content
    assert reverse("merchants:apply") in content


def test_catalogue_shows_active_products_with_lowest_price_and_stock(client, merchant, store_url):
    tea = ProductFactory(merchant=merchant, name="Green Tea")
    SkuFactory(product=tea, price=Decimal("38.00"), stock=3)
    SkuFactory(product=tea, price=Decimal("12.50"), stock=0)
    SkuFactory(product=tea, price=Decimal("5.00"), stock=9, is_active=False)
    sold_out = ProductFactory(merchant=merchant, name="Oolong")
    SkuFactory(product=sold_out, price=Decimal("20.00"), stock=0)
    hidden = ProductFactory(merchant=merchant, name="Hidden Jasmine", is_active=False)
    SkuFactory(product=hidden)

    response = client.get(store_url("catalogue"))

    content = response.content.decode()
    assert response.status_code == 200
    products = {product.name: product for product in response.context["products"]}
    assert set(products) == {"Green Tea", "Oolong"}
    assert products["Green Tea"].lowest_price == Decimal("12.50")
    assert products["Green Tea"].stock_total == 3
    assert products["Oolong"].stock_total == 0
    assert 'data-test="price">from ¥12.50<' in content
    assert content.count('data-test="in-stock"') == 1
    assert content.count('data-test="out-of-stock"') == 1
    assert "Hidden Jasmine" not in content


@pytest.mark.parametrize("status", [Merchant.Status.PENDING, Merchant.Status.SUSPENDED])
def test_inactive_store_is_404(db, client, status):
    closed = MerchantFactory(status=status)

    assert (
        client.get(reverse("storefront:catalogue", kwargs={"slug": closed.slug})).status_code == 404
    )


def test_unknown_store_is_404(db, client):
    assert (
        client.get(reverse("storefront:catalogue", kwargs={"slug": "no-such-store"})).status_code
        == 404
    )


def test_product_page_shows_skus_prices_stock_and_form(client, merchant, sku, store_url):
    SkuFactory(product=sku.product, name="Large", price=Decimal("150.00"), stock=0)

    response = client.get(store_url("product", product_id=sku.product_id))

    content = response.content.decode()
    assert response.status_code == 200
    assert sku.product.name in content
    assert f'value="{sku.pk}"' in content and "¥100.00" in content and "100 left" in content
    assert "¥150.00" in content and "Sold out" in content
    assert 'name="quantity"' in content and 'data-test="add-to-cart"' in content


def test_another_stores_product_is_404(client, store_url, other_sku):
    assert client.get(store_url("product", product_id=other_sku.product_id)).status_code == 404


def test_add_to_cart_adds_and_redirects(signed_in, customer, sku, store_url):
    url = store_url("product", product_id=sku.product_id)

    response = signed_in.post(url, {"sku": sku.pk, "quantity": 3})

    assert response.status_code == 302 and response["Location"] == url
    item = CartItem.objects.get(cart__customer=customer)
    assert (item.sku_id, item.quantity, item.merchant_id) == (sku.pk, 3, sku.merchant_id)


@pytest.mark.parametrize(
    ("quantity", "field"),
    [
        ("0", "quantity"),
        ("-1", "quantity"),
        ("two", "quantity"),
        ("", "quantity"),
        ("1000", "quantity"),
    ],
)
def test_add_to_cart_refuses_bad_quantities(signed_in, sku, store_url, quantity, field):
    response = signed_in.post(
        store_url("product", product_id=sku.product_id), {"sku": sku.pk, "quantity": quantity}
    )

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert f'data-test="error-{field}"' in response.content.decode()
    assert not CartItem.objects.exists()


def test_add_to_cart_refuses_unknown_inactive_and_foreign_skus(
    signed_in, merchant, sku, other_sku, store_url
):
    inactive = SkuFactory(product=sku.product, is_active=False)
    url = store_url("product", product_id=sku.product_id)

    unknown = signed_in.post(url, {"sku": 999999999, "quantity": 1})
    off_sale = signed_in.post(url, {"sku": inactive.pk, "quantity": 1})
    foreign = signed_in.post(url, {"sku": other_sku.pk, "quantity": 1})
    text = signed_in.post(url, {"sku": "abc", "quantity": 1})

    assert unknown.status_code == 404
    assert unknown.context["form"].errors["sku"] == ["This item does not exist."]
    assert off_sale.status_code == 400
    assert off_sale.context["form"].errors["sku"] == [f"“{inactive}” is no longer on sale."]
    assert foreign.status_code == 404
    assert foreign.context["form"].errors["sku"] == ["This item does not exist."]
    assert text.status_code == 400
    assert not CartItem.objects.exists()


def test_anonymous_add_to_cart_goes_to_sign_in_and_writes_nothing(client, sku, store_url):
    url = store_url("product", product_id=sku.product_id)

    response = client.post(url, {"sku": sku.pk, "quantity": 1})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    assert not CartItem.objects.exists()


def test_cart_change_quantity_and_remove(signed_in, customer, sku, store_url, fill_cart):
    item = fill_cart(customer=customer, sku=sku, quantity=1)

    page = signed_in.get(store_url("cart"))
    assert page.status_code == 200
    assert f'data-test="cart-item-{item.pk}"' in page.content.decode()
    assert page.context["total"] == Decimal("100.00")
    assert 'data-test="cart-total">¥100.00<' in page.content.decode()

    response = signed_in.post(store_url("cart-update", item_id=item.pk), {"quantity": 4})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.quantity == 4

    bad = signed_in.post(store_url("cart-update", item_id=item.pk), {"quantity": 0})
    assert bad.status_code == 400
    item.refresh_from_db()
    assert item.quantity == 4

    response = signed_in.post(store_url("cart-remove", item_id=item.pk))
    assert response.status_code == 302
    assert not CartItem.objects.filter(pk=item.pk).exists()


def test_someone_elses_cart_item_is_404(signed_in, sku, store_url, fill_cart):
    item = fill_cart(customer=UserFactory(), sku=sku, quantity=2)

    assert (
        signed_in.post(store_url("cart-update", item_id=item.pk), {"quantity": 1}).status_code
        == 404
    )
    assert signed_in.post(store_url("cart-remove", item_id=item.pk)).status_code == 404
    item.refresh_from_db()
    assert item.quantity == 2


def test_checkout_with_missing_fields_is_400_and_places_nothing(
    signed_in, customer, sku, store_url, fill_cart
):
    fill_cart(customer=customer, sku=sku)

    page = signed_in.get(store_url("checkout"))
    response = signed_in.post(store_url("checkout"), {"recipient_name": "Bob"})

    assert page.status_code == 200 and 'name="shipping_address"' in page.content.decode()
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"recipient_phone", "shipping_address"}
    assert not Order.objects.exists()
    assert CartItem.objects.filter(cart__customer=customer).count() == 1


def test_checkout_out_of_stock_shows_the_conflict(signed_in, customer, sku, store_url, fill_cart):
    fill_cart(customer=customer, sku=sku, quantity=5)
    Sku.objects.filter(pk=sku.pk).update(stock=2)

    response = signed_in.post(
        store_url("checkout"),
        {"recipient_name": "Bob", "recipient_phone": "139", "shipping_address": "Road 1"},
    )

    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [f"Not enough stock of “{sku}”."]
    assert not Order.objects.exists()
    sku.refresh_from_db()
    assert sku.stock == 2


def test_checkout_with_an_empty_cart_is_400(signed_in, store_url):
    response = signed_in.post(
        store_url("checkout"),
        {"recipient_name": "Bob", "recipient_phone": "139", "shipping_address": "Road 1"},
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Your cart is empty."]


def test_my_orders_lists_only_my_orders_in_this_store(
    signed_in, customer, sku, other_sku, store_url, place_order
):
    mine = place_order(customer=customer, sku=sku, quantity=2)
    place_order(customer=UserFactory(), sku=sku)
    elsewhere = place_order(customer=customer, sku=other_sku)

    response = signed_in.get(store_url("orders"))

    assert response.status_code == 200
    assert [order.pk for order in response.context["page"].object_list] == [mine.pk]
    content = response.content.decode()
    assert mine.number in content and "Awaiting payment" in content and "¥200.00" in content
    assert elsewhere.number not in content


def test_order_page_shows_state_buttons_history_and_recipient(
    signed_in, customer, sku, store_url, place_order
):
    order = place_order(customer=customer, sku=sku)

    response = signed_in.get(store_url("order", order_id=order.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert order.number in content and "Li Lei" in content and "1 Nanjing Road, Shanghai" in content
    assert 'data-test="pay-order"' in content and 'data-test="cancel-order"' in content
    assert 'data-test="confirm-receipt"' not in content
    assert 'data-test="payment-confirming"' not in content
    assert [change.to_status for change in response.context["history"]] == ["pending_payment"]


def test_another_customers_order_is_404(signed_in, sku, store_url, place_order):
    theirs = place_order(customer=UserFactory(), sku=sku)

    assert signed_in.get(store_url("order", order_id=theirs.pk)).status_code == 404
    assert signed_in.post(store_url("order-cancel", order_id=theirs.pk)).status_code == 404
    assert signed_in.post(store_url("order-pay", order_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.PENDING_PAYMENT


def test_my_order_from_another_store_is_404_under_this_stores_url(
    signed_in, customer, other_sku, store_url, place_order
):
    elsewhere = place_order(customer=customer, sku=other_sku)

    assert signed_in.get(store_url("order", order_id=elsewhere.pk)).status_code == 404
    assert signed_in.post(store_url("order-cancel", order_id=elsewhere.pk)).status_code == 404


def test_cancel_unpaid_order_gives_stock_back(signed_in, customer, sku, store_url, place_order):
    order = place_order(customer=customer, sku=sku, quantity=3)

    response = signed_in.post(store_url("order-cancel", order_id=order.pk))

    assert response.status_code == 302
    order.refresh_from_db()
    sku.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and sku.stock == 100
    page = signed_in.get(store_url("order", order_id=order.pk)).content.decode()
    assert 'data-test="pay-order"' not in page and "Cancelled" in page


def test_invalid_order_actions_answer_409_with_a_message(
    signed_in, customer, sku, store_url, place_order
):
    order = place_order(customer=customer, sku=sku)
    signed_in.post(store_url("order-cancel", order_id=order.pk))

    cancel_again = signed_in.post(store_url("order-cancel", order_id=order.pk))
    pay = signed_in.post(store_url("order-pay", order_id=order.pk))
    confirm = signed_in.post(store_url("order-confirm", order_id=order.pk))

    assert cancel_again.status_code == 409
    assert "Only an unpaid order can be cancelled." in cancel_again.content.decode()
    assert pay.status_code == 409
    assert "This order is not awaiting payment." in pay.content.decode()
    assert confirm.status_code == 409
    assert "Only a shipped order can be completed." in confirm.content.decode()


@pytest.mark.parametrize("name", ["cart", "checkout", "orders"])
def test_signed_out_visitors_are_sent_to_sign_in(client, store_url, name):
    url = store_url(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
