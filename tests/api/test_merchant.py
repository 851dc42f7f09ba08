"""Merchant back-office API (``/api/v1/merchant/…``)."""

from decimal import Decimal

import pytest

from apps.commissions.models import CommissionPlan, CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.merchants.models import MerchantApplication
from apps.orders.models import Order
from apps.orders.services import order_confirm_receipt, order_ship
from apps.products.models import Product, Sku
from apps.programme.binding import customer_bind
from tests.factories import ProductFactory, SkuFactory, UserFactory
from tests.services.flows import paid_order, place

from .conftest import api_url, client_for


@pytest.fixture
def office(staff_user):
    return client_for(staff_user)


# --- products and SKUs ------------------------------------------------------------------------


def test_product_crud(merchant, office):
    created = office.post(
        api_url("merchant-product-list"),
        {"name": "Pu-erh", "description": "Aged", "sort_order": 2},
        format="json",
    )
    assert created.status_code == 201
    product = Product.objects.get(pk=created.json()["id"])
    assert product.merchant_id == merchant.pk
    assert created.json() == {
        "id": product.pk,
        "name": "Pu-erh",
        "description": "Aged",
        "image": None,
        "is_active": True,
        "sort_order": 2,
        "created_at": created.json()["created_at"],
        "skus": [],
    }
    detail = api_url("merchant-product-detail", pk=product.pk)

    patched = office.patch(detail, {"is_active": False}, format="json")
    replaced = office.put(
        detail, {"name": "Raw Pu-erh", "description": "", "is_active": True}, format="json"
    )

    assert patched.json()["is_active"] is False
    assert (replaced.json()["name"], replaced.json()["is_active"]) == ("Raw Pu-erh", True)
    assert office.get(api_url("merchant-product-list")).json()["count"] == 1
    assert office.delete(detail).status_code == 204
    assert not Product.objects.exists()


def test_a_product_with_skus_is_not_deleted(merchant, office, sku):
    response = office.delete(api_url("merchant-product-detail", pk=sku.product_id))
    assert response.status_code == 409
    assert response.json()["code"] == "protected"
    assert Product.objects.filter(pk=sku.product_id).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"description": "no name"}, "name"), ({"name": "X", "is_active": "maybe"}, "is_active")],
)
def test_bad_product_input(merchant, office, body, field):
    response = office.post(api_url("merchant-product-list"), body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Product.objects.exists()


def test_sku_crud(merchant, office):
    product = ProductFactory(merchant=merchant)
    created = office.post(
        api_url("merchant-sku-list"),
        {"product": product.pk, "name": "500 g", "code": " PU-500 ", "price": "88.80", "stock": 7},
        format="json",
    )
    assert created.status_code == 201
    sku = Sku.objects.get(pk=created.json()["id"])
    assert created.json() == {
        "id": sku.pk,
        "product": product.pk,
        "name": "500 g",
        "code": "PU-500",
        "price": "88.80",
        "stock": 7,
        "is_active": True,
        "min_resale_price": None,
        "max_resale_price": None,
    }
    assert sku.merchant_id == merchant.pk
    detail = api_url("merchant-sku-detail", pk=sku.pk)
    assert (
        office.patch(detail, {"stock": 9, "expected_stock": 7}, format="json").json()["stock"] == 9
    )
    assert (
        office.get(api_url("merchant-product-detail", pk=product.pk)).json()["skus"][0]["stock"]
        == 9
    )
    assert office.delete(detail).status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "TAKEN"}, "code"),
        ({"price": "0"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": "many"}, "stock"),
        ({"product": "x"}, "product"),
    ],
)
def test_bad_sku_input(merchant, office, change, field):
    product = ProductFactory(merchant=merchant)
    SkuFactory(product=product, code="TAKEN")
    body = {
        "product": product.pk,
        "name": "S",
        "code": "NEW",
        "price": "1.00",
        "stock": 1,
        **change,
    }

    response = office.post(api_url("merchant-sku-list"), body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Sku.objects.count() == 1


def test_changing_stock_needs_the_stock_last_read(office, sku):
    detail = api_url("merchant-sku-detail", pk=sku.pk)

    response = office.patch(detail, {"stock": 150}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["expected_stock"]
    assert Sku.objects.get(pk=sku.pk).stock == 100


def test_a_stock_change_from_a_stale_figure_does_not_put_sold_units_back(
    merchant, office, sku, customer
):
    # Given staff read stock 100, then a customer orders 3
    detail = api_url("merchant-sku-detail", pk=sku.pk)
    read = office.get(detail).json()["stock"]
    place(merchant=merchant, customer=customer, lines=[(sku, 3)])

    # When staff add 5 to what they read
    response = office.patch(detail, {"stock": read + 5, "expected_stock": read}, format="json")

    # Then the update is refused and the 3 sold units stay sold
    assert (read, response.status_code, response.json()["code"]) == (100, 409, "stock_changed")
    assert Sku.objects.get(pk=sku.pk).stock == 97


def test_an_ordered_sku_is_not_deleted(merchant, office, sku, customer):
    place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    response = office.delete(api_url("merchant-sku-detail", pk=sku.pk))
    assert response.status_code == 409
    assert Sku.objects.filter(pk=sku.pk).exists()


# --- orders -----------------------------------------------------------------------------------


def test_order_list_filter_and_detail(merchant, office, sku, customer):
    pending = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    paid = paid_order(merchant=merchant, customer=customer, lines=[(sku, 2)])

    everything = office.get(api_url("merchant-order-list"))
    only_paid = office.get(api_url("merchant-order-list"), {"status": "paid"})
    detail = office.get(api_url("merchant-order-detail", pk=paid.pk))

    assert [row["id"] for row in everything.json()["results"]] == [paid.pk, pending.pk]
    assert [row["id"] for row in only_paid.json()["results"]] == [paid.pk]
    body = detail.json()
    assert body["customer"] == {"id": customer.pk, "display_name": customer.username}
    assert (body["status"], body["payable_amount"], body["commission_status"]) == (
        "paid",
        "200.00",
        "none",
    )
    assert [(line["sku"], line["quantity"], line["paid_amount"]) for line in body["lines"]] == [
        (sku.pk, 2, "200.00")
    ]
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert body["distributor"] is None


def test_unknown_status_filter_is_refused(office):
    response = office.get(api_url("merchant-order-list"), {"status": "lost"})
    assert response.status_code == 400
    assert response.json() == {"status": ['"lost" is not a valid choice.']}


def test_ship_a_paid_order(merchant, office, sku, customer, staff_user):
    order = paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])

    response = office.post(
        api_url("merchant-order-ship", pk=order.pk),
        {"carrier": "SF", "tracking_number": "SF123"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["shipping_carrier"], body["tracking_number"]) == (
        "shipped",
        "SF",
        "SF123",
    )
    assert body["history"][-1]["actor"] == staff_user.pk


def test_ship_refusals_write_nothing(merchant, office, sku, customer):
    pending = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    paid = paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])

    unpaid = office.post(
        api_url("merchant-order-ship", pk=pending.pk),
        {"carrier": "SF", "tracking_number": "1"},
        format="json",
    )
    no_tracking = office.post(
        api_url("merchant-order-ship", pk=paid.pk), {"carrier": "SF"}, format="json"
    )
    blank = office.post(
        api_url("merchant-order-ship", pk=paid.pk),
        {"carrier": " ", "tracking_number": "1"},
        format="json",
    )

    assert unpaid.status_code == 409
    assert unpaid.json() == {
        "detail": "Only a paid order can be shipped.",
        "code": "invalid_transition",
    }
    assert no_tracking.status_code == 400
    assert list(no_tracking.json()) == ["tracking_number"]
    assert blank.status_code == 400
    assert list(blank.json()) == ["carrier"]
    assert list(Order.objects.order_by("id").values_list("status", flat=True)) == [
        "pending_payment",
        "paid",
    ]


# --- distributors and commissions -------------------------------------------------------------


def test_distributor_list_and_detail(merchant, office, chain):
    listing = office.get(api_url("merchant-distributor-list"))
    detail = office.get(api_url("merchant-distributor-detail", pk=chain[1].pk))

    assert [row["id"] for row in listing.json()["results"]] == [d.pk for d in chain]
    assert listing.json()["results"][0]["parent"] is None
    assert detail.json() == {
        "id": chain[1].pk,
        "user": chain[1].user_id,
        "display_name": chain[1].user.username,
        "invite_code": chain[1].invite_code,
        "status": "active",
        "level": 1,
        "parent": {"id": chain[0].pk, "invite_code": chain[0].invite_code},
        "joined_at": detail.json()["joined_at"],
    }


def test_commission_list(merchant, office, chain, sku, staff_user):
    buyer = UserFactory()
    customer_bind(merchant=merchant, customer=buyer, invite_code=chain[1].invite_code)
    order = paid_order(merchant=merchant, customer=buyer, lines=[(sku, 1)])
    order_ship(
        merchant=merchant, order_id=order.pk, carrier="SF", tracking_number="1", actor=staff_user
    )
    order_confirm_receipt(merchant=merchant, customer=buyer, order_id=order.pk)
    commission_settle_orders(order_id=order.pk)

    response = office.get(api_url("merchant-commission-list"))

    records = CommissionRecord.objects.order_by("-id")
    assert response.json()["count"] == 2
    assert [row["id"] for row in response.json()["results"]] == [r.pk for r in records]
    assert [
        (row["level"], row["amount"], row["beneficiary"]["id"])
        for row in response.json()["results"]
    ] == [
        (2, "5.00", chain[0].pk),
        (1, "10.00", chain[1].pk),
    ]


# --- commission plan --------------------------------------------------------------------------

PLAN = {
    "level1_percent": "12.50",
    "level2_percent": "6.00",
    "level3_percent": "1.50",
    "max_total_percent": "20.00",
    "freeze_days": 0,
    "is_enabled": True,
}


def test_read_and_replace_the_plan(merchant, office):
    read = office.get(api_url("merchant-commission-plan"))
    replaced = office.put(api_url("merchant-commission-plan"), PLAN, format="json")

    assert {k: v for k, v in read.json().items() if k != "updated_at"} == {
        "level1_percent": "10.00",
        "level2_percent": "5.00",
        "level3_percent": "2.00",
        "max_total_percent": "30.00",
        "freeze_days": 7,
        "is_enabled": True,
    }
    assert replaced.status_code == 200
    assert {k: v for k, v in replaced.json().items() if k != "updated_at"} == PLAN
    plan = CommissionPlan.objects.get(merchant=merchant)
    assert (plan.level1_percent, plan.max_total_percent, plan.freeze_days) == (
        Decimal("12.50"),
        Decimal("20.00"),
        0,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_total_percent": "19.99"}, "max_total_percent"),  # levels add up to 20
        ({"max_total_percent": "100.01"}, "max_total_percent"),
        ({"level1_percent": "-1"}, "level1_percent"),
        ({"level2_percent": "x"}, "level2_percent"),
        ({"freeze_days": 366}, "freeze_days"),
        ({"freeze_days": -1}, "freeze_days"),
        ({"freeze_days": None}, "freeze_days"),
        ({"is_enabled": "perhaps"}, "is_enabled"),
    ],
)
def test_bad_plans_are_refused(merchant, office, change, field):
    response = office.put(api_url("merchant-commission-plan"), {**PLAN, **change}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    plan = CommissionPlan.objects.get(merchant=merchant)
    assert (plan.level1_percent, plan.max_total_percent, plan.freeze_days) == (
        Decimal("10.00"),
        Decimal("30.00"),
        7,
    )


def test_levels_over_the_cap_say_so(office):
    response = office.put(
        api_url("merchant-commission-plan"), {**PLAN, "max_total_percent": "19.99"}, format="json"
    )
    assert response.json() == {
        "max_total_percent": ["The levels add up to 20.00%, more than the cap of 19.99%."]
    }


def test_a_plan_put_needs_every_field(office):
    response = office.put(
        api_url("merchant-commission-plan"), {"level1_percent": "1.00"}, format="json"
    )
    assert response.status_code == 400
    assert sorted(response.json()) == [
        "freeze_days", "is_enabled", "level2_percent", "level3_percent", "max_total_percent",
    ]  # fmt: skip


# --- merchant applications (public) -----------------------------------------------------------

APPLICATION = {
    "username": "tea-lady",
    "password": "a-long-enough-pass-42",
    "store_name": "Tea Lady",
    "slug": "tea-lady",
    "contact_name": "Wang Fang",
    "contact_phone": "13900000000",
    "contact_email": "wang@example.com",
    "description": "Tea from Yunnan",
}


def test_apply_to_become_a_merchant(db):
    response = client_for(None).post(
        api_url("merchant-application-create"), APPLICATION, format="json"
    )

    application = MerchantApplication.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": application.pk,
        "store_name": "Tea Lady",
        "slug": "tea-lady",
        "status": "pending",
        "created_at": response.json()["created_at"],
    }
    assert application.applicant.username == "tea-lady"
    assert application.applicant.check_password("a-long-enough-pass-42")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "123"}, "password"),
        ({"slug": "Bad Slug!"}, "slug"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"contact_email": "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "com"}, "contact_email"),
        ({"store_name": ""}, "store_name"),
    ],
)
def test_bad_applications_write_nothing(db, change, field):
    response = client_for(None).post(
        api_url("merchant-application-create"), {**APPLICATION, **change}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not MerchantApplication.objects.exists()
