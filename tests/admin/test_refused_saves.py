"""A save that a service refuses while saving (the form had validated it; something changed in
between) is a form error: nothing is saved, no LogEntry is written, no "successfully" message is
shown. Also: values that are no key or no stock at all are form errors, never a server error."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.commissions import admin as commission_admin
from apps.commissions.models import CommissionPlan
from apps.core.errors import Conflict
from apps.distributors.models import Distributor
from apps.merchants import admin as merchant_admin
from apps.merchants.models import Merchant, MerchantStaff
from apps.products import admin as product_admin
from apps.products.models import Product, Sku
from tests.factories import ProductFactory, SkuFactory, UserFactory

from .form_data import NO_TIER_PRICES, new_product_data, product_form_data
from .test_scoping import url

REFUSAL = "Something changed meanwhile; look again."


def refuse(**kwargs):
    raise Conflict(REFUSAL, code="changed_meanwhile")


def messages_shown(response):
    return [str(message) for message in response.context["messages"]]


def form_of(response):
    return response.context["adminform"].form


def assert_refused_without_trace(response):
    assert response.status_code == 200
    assert messages_shown(response) == []
    assert "successfully" not in response.content.decode()
    assert LogEntry.objects.count() == 0


def sku_form_data(sku, **overrides):
    data = {
        "product": str(sku.product_id),
        "name": sku.name,
        "code": sku.code,
        "price": str(sku.price),
        "stock": str(sku.stock),
        "initial-stock": str(sku.stock),
        "is_active": "on",
        **NO_TIER_PRICES,
    }
    return data | overrides


def sku_rows():
    return sorted(Sku.objects.values_list("pk", "name", "code", "price", "stock"))


# --- products and SKUs ------------------------------------------------------------------------


def test_a_refused_product_add_is_a_form_error_and_creates_nothing(
    store_a, staff_client, monkeypatch
):
    monkeypatch.setattr(product_admin, "product_create", refuse)

    response = staff_client.post(url(Product, "add"), new_product_data())

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [REFUSAL]
    assert not Product.objects.filter(name="Green tea").exists()
    assert not Sku.objects.filter(code="TEA-250").exists()


def test_a_product_add_whose_sku_is_refused_creates_neither(store_a, staff_client, monkeypatch):
    # the product is created, then the SKU's creation is refused: both are rolled back
    monkeypatch.setattr(product_admin, "sku_create", refuse)

    response = staff_client.post(url(Product, "add"), new_product_data())

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [f"TEA-250: {REFUSAL}"]
    assert not Product.objects.filter(name="Green tea").exists()
    assert not Sku.objects.filter(code="TEA-250").exists()


def test_a_refused_product_change_is_a_form_error_and_changes_nothing(
    store_a, staff_client, monkeypatch
):
    product = store_a.product
    monkeypatch.setattr(product_admin, "product_update", refuse)

    response = staff_client.post(
        url(Product, "change", product.pk), product_form_data(product, name="Renamed")
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [REFUSAL]
    assert Product.objects.get(pk=product.pk).name == product.name


def test_a_product_change_whose_sku_stock_is_refused_changes_nothing(store_a, staff_client):
    # the form showed 97 in stock; 94 were sold since, and the edit removes all 97
    product, sku = store_a.product, store_a.sku
    Sku.objects.filter(pk=sku.pk).update(stock=3)
    before = sku_rows()

    response = staff_client.post(
        url(Product, "change", product.pk),
        product_form_data(
            product,
            [sku],
            name="Renamed",
            **{"skus-0-price": "150.00", "skus-0-stock": "0", "initial-skus-0-stock": "97"},
        ),
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [
        f"{sku.code}: Only 3 in stock: cannot remove 97."
    ]
    assert Product.objects.get(pk=product.pk).name == product.name
    assert sku_rows() == before


def test_a_refused_sku_add_is_a_form_error_and_creates_nothing(store_a, staff_client, monkeypatch):
    monkeypatch.setattr(product_admin, "sku_create", refuse)

    response = staff_client.post(
        url(Sku, "add"),
        sku_form_data(store_a.sku, code="NEW-1", stock="5") | {"initial-stock": "5"},
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [REFUSAL]
    assert not Sku.objects.filter(code="NEW-1").exists()


def test_a_refused_sku_change_is_a_form_error_and_changes_nothing(store_a, staff_client):
    # the price is written first, then the stock removal is refused: the price is rolled back
    sku = store_a.sku
    Sku.objects.filter(pk=sku.pk).update(stock=3)
    before = sku_rows()

    response = staff_client.post(
        url(Sku, "change", sku.pk),
        sku_form_data(sku, price="150.00", stock="0") | {"initial-stock": "97"},
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == ["Only 3 in stock: cannot remove 97."]
    assert sku_rows() == before


@pytest.mark.parametrize("tampered", ["abc", "1e3", "-5", "99999999999999999999"])
def test_a_sku_form_whose_stock_as_rendered_was_tampered_with_is_a_form_error(
    store_a, staff_client, tampered
):
    sku = store_a.sku
    before = sku_rows()

    response = staff_client.post(
        url(Sku, "change", sku.pk),
        sku_form_data(sku, price="150.00", stock="50") | {"initial-stock": tampered},
    )

    assert_refused_without_trace(response)
    assert form_of(response).errors["stock"] == [
        "The form was changed outside the page; reload it and enter the stock again."
    ]
    assert sku_rows() == before


def test_an_inline_sku_whose_stock_as_rendered_was_tampered_with_is_a_form_error(
    store_a, staff_client
):
    product, sku = store_a.product, store_a.sku
    before = sku_rows()

    response = staff_client.post(
        url(Product, "change", product.pk),
        product_form_data(product, [sku], **{"skus-0-stock": "50", "initial-skus-0-stock": "abc"}),
    )

    assert_refused_without_trace(response)
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"stock": ["The form was changed outside the page; reload it and enter the stock again."]}
    ]
    assert sku_rows() == before


def test_a_stock_edit_beyond_the_stock_column_is_a_form_error(store_a, staff_client):
    # the hidden figure says 0 was shown: the edit would add the largest stock to the 97 in stock
    sku = store_a.sku
    before = sku_rows()

    response = staff_client.post(
        url(Sku, "change", sku.pk),
        sku_form_data(sku, stock="2147483647") | {"initial-stock": "0"},
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == ["Stock cannot exceed 2147483647."]
    assert sku_rows() == before


def test_a_refused_delete_is_an_error_message_and_deletes_nothing(
    store_a, staff_client, monkeypatch
):
    # nothing protected the SKU when the confirmation page was built; the service refuses anyway
    sku = SkuFactory(product=store_a.product)
    monkeypatch.setattr(product_admin, "sku_delete", refuse)

    response = staff_client.post(url(Sku, "delete", sku.pk), {"post": "yes"})

    assert (response.status_code, response["Location"]) == (302, url(Sku, "delete", sku.pk))
    page = staff_client.get(response["Location"])
    assert messages_shown(page) == [REFUSAL]
    assert LogEntry.objects.count() == 0
    assert Sku.objects.filter(pk=sku.pk).exists()


def sku_writes(queries):
    """The SKU ids of the UPDATEs and DELETEs of SKU rows, in the order they ran."""
    written = []
    for query in queries:
        sql = query["sql"]
        if re.match(r'(UPDATE|DELETE FROM) "products_sku"', sql):
            match = re.search(r'"products_sku"\."id" (?:= |IN \()(\d+)', sql)
            assert match, sql
            written.append(int(match.group(1)))
    return written


def test_a_product_save_writes_its_skus_in_ascending_id_order(store_a, staff_client):
    # order placement locks SKUs in ascending id order; a save that deleted the last and then
    # restocked the first would lock them the other way round
    product = ProductFactory(merchant=store_a.merchant)
    first, second, third = (SkuFactory(product=product, stock=10) for _ in range(3))
    data = product_form_data(
        product,
        [first, second, third],
        **{"skus-0-stock": "15", "skus-1-price": "1.23", "skus-2-DELETE": "on"},
    )

    with CaptureQueriesContext(connection) as captured:
        response = staff_client.post(url(Product, "change", product.pk), data)

    assert response.status_code == 302
    written = sku_writes(captured.captured_queries)
    assert written == sorted(written)
    assert set(written) == {first.pk, second.pk, third.pk}
    assert sorted(Sku.objects.filter(product=product).values_list("pk", "price", "stock")) == [
        (first.pk, first.price, 15),
        (second.pk, Decimal("1.23"), 10),
    ]


# --- commission plan ----------------------------------------------------------------------------


def test_a_refused_commission_plan_change_is_a_form_error(store_a, staff_client, monkeypatch):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)
    monkeypatch.setattr(commission_admin, "commission_plan_update", refuse)
    data = {
        "level1_percent": "12.00",
        "level2_percent": "5.00",
        "level3_percent": "2.00",
        "max_total_percent": "30.00",
        "freeze_days": "10",
        "is_enabled": "on",
        # the bonus tiers inline, empty
        "bonus_tiers-TOTAL_FORMS": "0",
        "bonus_tiers-INITIAL_FORMS": "0",
        "bonus_tiers-MIN_NUM_FORMS": "0",
        "bonus_tiers-MAX_NUM_FORMS": "1000",
    }

    response = staff_client.post(url(CommissionPlan, "change", plan.pk), data)

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [REFUSAL]
    plan.refresh_from_db()
    assert (plan.level1_percent, plan.freeze_days) == (Decimal("10.00"), 7)


# --- merchants and staff ------------------------------------------------------------------------


def test_a_refused_merchant_status_change_is_a_form_error_and_changes_nothing(
    store_a, operator_client, monkeypatch
):
    # the fee is written first, then the status change is refused: the fee is rolled back
    merchant = store_a.merchant
    monkeypatch.setattr(merchant_admin, "merchant_set_status", refuse)
    data = {
        "name": "Renamed",
        "status": "suspended",
        "platform_fee_percent": "2.50",
        "contact_email": "",
        "description": "",
    }

    response = operator_client.post(url(Merchant, "change", merchant.pk), data)

    assert_refused_without_trace(response)
    assert form_of(response).errors["status"] == [REFUSAL]
    assert Merchant.objects.values_list("name", "status", "platform_fee_percent").get(
        pk=merchant.pk
    ) == (merchant.name, "active", merchant.platform_fee_percent)


def test_a_refused_staff_add_is_a_form_error_and_adds_nobody(store_a, operator_client, monkeypatch):
    user = UserFactory()
    monkeypatch.setattr(merchant_admin, "merchant_staff_add", refuse)

    response = operator_client.post(
        url(MerchantStaff, "add"),
        {"user": user.pk, "merchant": store_a.merchant.pk, "role": "staff"},
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [REFUSAL]
    assert not MerchantStaff.objects.filter(user=user).exists()


def test_a_refused_staff_change_is_a_form_error_and_changes_nothing(
    store_a, staff_a, operator_client, monkeypatch
):
    membership = MerchantStaff.objects.get(user=staff_a)
    monkeypatch.setattr(merchant_admin, "merchant_staff_update", refuse)
    new_role = next(
        value
        for value, _label in MerchantStaff._meta.get_field("role").choices
        if value != membership.role
    )

    response = operator_client.post(
        url(MerchantStaff, "change", membership.pk),
        {"user": staff_a.pk, "merchant": store_a.merchant.pk, "role": new_role},
    )

    assert_refused_without_trace(response)
    assert form_of(response).non_field_errors() == [REFUSAL]
    assert MerchantStaff.objects.get(pk=membership.pk).role == membership.role


# --- values that are no key at all --------------------------------------------------------------


@pytest.mark.parametrize("parent", ["abc", "1.5", "99999999999999999999"])
def test_a_distributor_parent_that_is_no_id_is_a_form_error(store_a, staff_client, parent):
    child = store_a.child

    response = staff_client.post(url(Distributor, "change", child.pk), {"parent": parent})

    assert_refused_without_trace(response)
    assert form_of(response).errors["parent"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert Distributor.objects.get(pk=child.pk).parent_id == store_a.root.pk


def test_a_staff_user_that_is_no_id_is_a_form_error(store_a, operator_client):
    response = operator_client.post(
        url(MerchantStaff, "add"),
        {"user": "abc", "merchant": store_a.merchant.pk, "role": "staff"},
    )

    assert_refused_without_trace(response)
    assert form_of(response).errors["user"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
