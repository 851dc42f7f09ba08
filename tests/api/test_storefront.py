"""Storefront API: products, cart and the customer's orders (``/api/v1/stores/<store>/…``)."""

from decimal import Decimal

import pytest

from apps.orders.models import CartItem, Order
from apps.orders.services import cart_add_item, order_ship
from apps.payments.models import Payment
from apps.products.models import Sku
from tests.factories import ProductFactory, SkuFactory, UserFactory
from tests.services.flows import RECIPIENT, paid_order, place

from .conftest import api_url, client_for

RECIPIENT_BODY = {
    "recipient_name": RECIPIENT.name,
    "recipient_phone": RECIPIENT.phone,
    "shipping_address": RECIPIENT.address,
}


@pytest.fixture
def sku(merchant):
    return SkuFactory(
        product__merchant=merchant, product__name="Oolong", name="250 g", code="OOL-250",
        price=Decimal("100.00"), stock=10,
    )  # fmt: skip


@pytest.fixture
def shopper(customer):
    return client_for(customer)


# --- products ---------------------------------------------------------------------------------


def test_products_are_public_and_show_only_what_is_on_sale(merchant, sku):
    cheaper = SkuFactory(product=sku.product, name="100 g", code="OOL-100", price="45.50", stock=3)
    SkuFactory(product=sku.product, name="Retired", is_active=False)
    ProductFactory(merchant=merchant, is_active=False)  # off sale
    SkuFactory(product__merchant=merchant, is_active=False)  # on sale, but no SKU on sale

    response = client_for(None).get(api_url("store-product-list", store=merchant.slug))

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": sku.product.pk,
                "name": "Oolong",
                "description": "A fine product.",
                "image": None,
                "skus": [
                    {
                        "id": cheaper.pk,
                        "name": "100 g",
                        "code": "OOL-100",
                        "price": "45.50",
                        "stock": 3,
                    },
                    {
                        "id": sku.pk,
                        "name": "250 g",
                        "code": "OOL-250",
                        "price": "100.00",
                        "stock": 10,
                    },
                ],
            }
        ],
    }


def test_product_detail_and_absent_products(merchant, sku):
    client = client_for(None)
    response = client.get(api_url("store-product-detail", store=merchant.slug, pk=sku.product.pk))
    assert response.status_code == 200
    assert response.json()["skus"][0]["price"] == "100.00"

    off_sale = ProductFactory(merchant=merchant, is_active=False)
    assert (
        client.get(api_url("store-product-detail", store=merchant.slug, pk=off_sale.pk)).status_code
        == 404
    )
    assert client.get(api_url("store-product-list", store="no-such-store")).status_code == 404


@pytest.mark.parametrize(
    ("language", "detail"), [("en", "No such store."), ("zh-hans", "店铺不存在。")]
)
def test_an_unknown_store_answers_in_the_callers_language(db, language, detail):
    response = client_for(None).get(
        api_url("store-product-list", store="no-such-store"), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 404
    assert response.json()["detail"] == detail


def test_a_suspended_store_is_absent(merchant, sku):
    merchant.status = merchant.Status.SUSPENDED
    merchant.save(update_fields=["status"])
    assert (
        client_for(None).get(api_url("store-product-list", store=merchant.slug)).status_code == 404
    )


# --- cart -------------------------------------------------------------------------------------


def test_an_empty_cart(merchant, shopper):
    response = shopper.get(api_url("store-cart", store=merchant.slug))
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "quantity": 0,
        "total": "0.00",
        "payable": "0.00",
        "savings": [],
        "coupon_options": [],
        "coupon": None,
        "points_balance": 0,
        "points_max": 0,
    }


def test_add_to_cart_then_read_the_cart(merchant, sku, customer, shopper):
    url = api_url("store-cart-item-list", store=merchant.slug)

    first = shopper.post(url, {"sku": sku.pk, "quantity": 2}, format="json")
    again = shopper.post(url, {"sku": sku.pk, "quantity": 1}, format="json")

    item = CartItem.objects.get(cart__customer=customer)
    assert first.status_code == 201
    assert first.json() == {
        "id": item.pk,
        "sku": sku.pk,
        "product": sku.product_id,
        "product_name": "Oolong",
        "sku_name": "250 g",
        "unit_price": "100.00",
        "quantity": 2,
        "line_total": "200.00",
        "on_sale": True,
        "shop": None,
    }
    assert again.status_code == 201
    assert again.json()["quantity"] == 3
    cart = shopper.get(api_url("store-cart", store=merchant.slug)).json()
    assert cart["quantity"] == 3
    assert cart["total"] == "300.00"
    assert [line["id"] for line in cart["items"]] == [item.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": None, "quantity": 1}, "sku"),
        ({"quantity": 1}, "sku"),
        ({"sku": "SKU", "quantity": 0}, "quantity"),
        ({"sku": "SKU", "quantity": -1}, "quantity"),
        ({"sku": "SKU", "quantity": "two"}, "quantity"),
        ({"sku": "SKU", "quantity": 1000}, "quantity"),
        ({"sku": "SKU"}, "quantity"),
        ({"sku": "not-an-id", "quantity": 1}, "sku"),
    ],
)
def test_bad_cart_input_is_refused_with_a_message(merchant, sku, shopper, body, field):
    body = {key: sku.pk if value == "SKU" else value for key, value in body.items()}

    response = shopper.post(
        api_url("store-cart-item-list", store=merchant.slug), body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0]
    assert CartItem.objects.count() == 0


def test_a_sku_off_sale_cannot_be_added(merchant, sku, shopper):
    Sku.objects.filter(pk=sku.pk).update(is_active=False)
    response = shopper.post(
        api_url("store-cart-item-list", store=merchant.slug),
        {"sku": sku.pk, "quantity": 1},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "“Oolong / 250 g” is no longer on sale.",
        "code": "sku_inactive",
    }
    assert CartItem.objects.count() == 0


def test_change_and_remove_a_cart_line(merchant, sku, customer, shopper):
    item = cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)
    url = api_url("store-cart-item-detail", store=merchant.slug, pk=item.pk)

    changed = shopper.patch(url, {"quantity": 4}, format="json")
    refused = shopper.patch(url, {"quantity": 0}, format="json")

    assert changed.status_code == 200
    assert changed.json()["quantity"] == 4
    assert changed.json()["line_total"] == "400.00"
    assert refused.status_code == 400
    assert "quantity" in refused.json()
    item.refresh_from_db()
    assert item.quantity == 4
    assert shopper.delete(url).status_code == 204
    assert not CartItem.objects.filter(pk=item.pk).exists()
    assert shopper.delete(url).status_code == 404


# --- orders -----------------------------------------------------------------------------------


def test_place_an_order_from_the_cart(merchant, sku, customer, shopper):
    cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=2)

    response = shopper.post(
        api_url("store-order-list", store=merchant.slug),
        {**RECIPIENT_BODY, "note": "Ring twice"},
        format="json",
    )

    assert response.status_code == 201
    order = Order.objects.get(customer=customer)
    body = response.json()
    assert body["id"] == order.pk
    assert body["number"] == order.number
    assert body["status"] == "pending_payment"
    assert (body["goods_amount"], body["payable_amount"]) == ("200.00", "200.00")
    assert (body["recipient_name"], body["shipping_address"], body["note"]) == (
        "Li Lei", "1 Nanjing Road, Shanghai", "Ring twice",
    )  # fmt: skip
    assert body["lines"] == [
        {
            "id": order.lines.get().pk,
            "sku": sku.pk,
            "product": sku.product_id,
            "product_name": "Oolong",
            "sku_name": "250 g",
            "unit_price": "100.00",
            "quantity": 2,
            "discount_amount": "0.00",
            "paid_amount": "200.00",
            "flash_sale": None,
            "adjustments": [],
        }
    ]
    assert CartItem.objects.count() == 0
    sku.refresh_from_db()
    assert sku.stock == 8


def test_buy_now_with_explicit_lines_leaves_the_cart_alone(merchant, sku, customer, shopper):
    cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)

    response = shopper.post(
        api_url("store-order-list", store=merchant.slug),
        {**RECIPIENT_BODY, "lines": [{"sku": sku.pk, "quantity": 3}]},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["payable_amount"] == "300.00"
    assert [(line["sku"], line["quantity"]) for line in response.json()["lines"]] == [(sku.pk, 3)]
    assert CartItem.objects.get().quantity == 1


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"lines": [{"sku": "SKU", "quantity": 1}]},
            400,
            ["recipient_name", "recipient_phone", "shipping_address"],
        ),
        ({**RECIPIENT_BODY, "lines": []}, 400, ["lines"]),
        ({**RECIPIENT_BODY, "lines": [{"sku": "SKU", "quantity": 0}]}, 400, ["lines"]),
        ({**RECIPIENT_BODY, "lines": [{"sku": "SKU", "quantity": "x"}]}, 400, ["lines"]),
        ({**RECIPIENT_BODY, "lines": "SKU"}, 400, ["lines"]),
        ({**RECIPIENT_BODY, "recipient_name": "   "}, 400, ["recipient_name"]),
        (RECIPIENT_BODY, 400, ["detail", "code"]),  # the cart is empty
        ({**RECIPIENT_BODY, "lines": [{"sku": "SKU", "quantity": 11}]}, 409, ["detail", "code"]),
    ],
)
def test_bad_orders_are_refused_and_write_nothing(merchant, sku, shopper, body, status, expected):
    def with_sku(value):  # type: ignore[no-untyped-def]
        if value == "SKU":
            return sku.pk
        if isinstance(value, list):
            return [{**line, "sku": with_sku(line["sku"])} for line in value]
        return value

    body = {key: with_sku(value) for key, value in body.items()}

    response = shopper.post(api_url("store-order-list", store=merchant.slug), body, format="json")

    assert response.status_code == status, response.json()
    assert sorted(response.json()) == sorted(expected)
    assert Order.objects.count() == 0
    sku.refresh_from_db()
    assert sku.stock == 10


def test_empty_cart_and_out_of_stock_messages(merchant, sku, shopper):
    empty = shopper.post(
        api_url("store-order-list", store=merchant.slug), RECIPIENT_BODY, format="json"
    )
    too_many = shopper.post(
        api_url("store-order-list", store=merchant.slug),
        {**RECIPIENT_BODY, "lines": [{"sku": sku.pk, "quantity": 11}]},
        format="json",
    )
    assert empty.json() == {"detail": "Your cart is empty.", "code": "empty_cart"}
    assert too_many.json() == {
        "detail": "Not enough stock of “Oolong / 250 g”.",
        "code": "out_of_stock",
    }


def test_list_and_read_own_orders(merchant, sku, customer, shopper):
    older = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    newer = place(merchant=merchant, customer=customer, lines=[(sku, 2)])
    place(merchant=merchant, customer=UserFactory(), lines=[(sku, 1)])  # someone else's

    listing = shopper.get(api_url("store-order-list", store=merchant.slug))
    detail = shopper.get(api_url("store-order-detail", store=merchant.slug, pk=older.pk))

    assert listing.status_code == 200
    assert listing.json()["count"] == 2
    assert [row["id"] for row in listing.json()["results"]] == [newer.pk, older.pk]
    assert detail.status_code == 200
    assert (detail.json()["number"], detail.json()["payable_amount"]) == (older.number, "100.00")


def test_pay_returns_the_checkout_of_one_pending_payment(merchant, sku, customer, shopper):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    url = api_url("store-order-pay", store=merchant.slug, pk=order.pk)

    first = shopper.post(url)
    second = shopper.post(url)

    payment = Payment.objects.get(order=order)
    assert first.status_code == 200
    assert first.json() == {
        "out_trade_no": payment.out_trade_no,
        "provider": "sandbox",
        "amount": "100.00",
        "checkout_url": f"http://testserver/pay/sandbox/{payment.out_trade_no}/",
    }
    assert payment.out_trade_no.startswith(f"FX{order.number}")
    assert second.json() == first.json()


def test_a_paid_order_cannot_be_paid_again(merchant, sku, customer, shopper):
    order = paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    response = shopper.post(api_url("store-order-pay", store=merchant.slug, pk=order.pk))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This order is not awaiting payment.",
        "code": "not_payable",
    }


def test_cancel_an_unpaid_order_gives_the_stock_back(merchant, sku, customer, shopper):
    order = place(merchant=merchant, customer=customer, lines=[(sku, 3)])

    response = shopper.post(api_url("store-order-cancel", store=merchant.slug, pk=order.pk))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] is not None
    sku.refresh_from_db()
    assert sku.stock == 10


def test_a_paid_order_cannot_be_cancelled(merchant, sku, customer, shopper):
    order = paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    response = shopper.post(api_url("store-order-cancel", store=merchant.slug, pk=order.pk))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_confirm_receipt_completes_a_shipped_order(merchant, sku, customer, shopper, staff_user):
    order = paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    order_ship(
        merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="SF1", actor=staff_user
    )
    url = api_url("store-order-confirm-receipt", store=merchant.slug, pk=order.pk)

    response = shopper.post(url)
    again = shopper.post(url)

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert again.status_code == 200
    assert order.status_changes.filter(to_status="completed").count() == 1


def test_an_unshipped_order_cannot_be_confirmed(merchant, sku, customer, shopper):
    order = paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    response = shopper.post(
        api_url("store-order-confirm-receipt", store=merchant.slug, pk=order.pk)
    )
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
