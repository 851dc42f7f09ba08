"""Related dropdowns, list filters, autocomplete and inline forms offer and accept only the
signed-in merchant's objects."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.commissions.models import CommissionPlan
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join
from apps.products.models import Product, Sku
from tests.factories import SkuFactory, UserFactory
from tests.support.tree import assert_trees_valid

from .form_data import NO_TIER_PRICES, new_product_data, product_form_data
from .test_scoping import url


def choice_ids(field):
    return {int(str(value)) for value, _label in field.choices if value != ""}


def autocomplete(client, app_label, model_name, field_name, term=""):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )


def sku_data(product, **overrides):
    data = {
        "product": product.pk,
        "name": "Large",
        "code": "L-001",
        "price": "59.90",
        "stock": "7",
        "initial-stock": "7",
        "is_active": "on",
        **NO_TIER_PRICES,
    }
    return {**data, **overrides}


def test_sku_product_dropdown_lists_only_own_products(store_a, store_b, staff_client):
    response = staff_client.get(url(Sku, "add"))

    assert response.status_code == 200
    assert choice_ids(response.context["adminform"].form.fields["product"]) == {store_a.product.pk}


def test_sku_with_another_merchants_product_is_refused(store_a, store_b, staff_client):
    response = staff_client.post(url(Sku, "add"), sku_data(store_b.product))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["product"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert Sku.objects.count() == 2


def test_staff_add_sku_to_their_merchant(store_a, store_b, staff_client):
    response = staff_client.post(url(Sku, "add"), sku_data(store_a.product))

    assert response.status_code == 302
    sku = Sku.objects.get(code="L-001")
    assert (sku.merchant_id, sku.product_id, sku.price, sku.stock) == (
        store_a.merchant.pk,
        store_a.product.pk,
        Decimal("59.90"),
        7,
    )


def test_duplicate_sku_code_is_a_form_error_within_one_merchant_only(
    store_a, store_b, staff_client
):
    taken = staff_client.post(url(Sku, "add"), sku_data(store_a.product, code=store_a.sku.code))
    other_stores_code = staff_client.post(
        url(Sku, "add"), sku_data(store_a.product, code=store_b.sku.code)
    )

    assert taken.status_code == 200
    assert taken.context["adminform"].form.non_field_errors() == [
        "SKU with this Merchant and Code already exists."
    ]
    assert other_stores_code.status_code == 302
    assert Sku.objects.filter(code=store_b.sku.code).count() == 2


def test_product_with_sku_inline_gets_the_staff_merchant(store_a, store_b, staff_client):
    response = staff_client.post(url(Product, "add"), new_product_data())

    assert response.status_code == 302
    product = Product.objects.get(name="Green tea")
    sku = Sku.objects.get(code="TEA-250")
    assert (product.merchant_id, sku.merchant_id, sku.product_id, sku.stock) == (
        store_a.merchant.pk,
        store_a.merchant.pk,
        product.pk,
        12,
    )


def test_inline_sku_with_a_taken_code_is_a_form_error(store_a, staff_client):
    response = staff_client.post(
        url(Product, "add"), new_product_data(**{"skus-0-code": store_a.sku.code})
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"__all__": ["SKU with this Merchant and Code already exists."]}
    ]
    assert Product.objects.filter(name="Green tea").count() == 0


def test_editing_a_price_keeps_stock_sold_meanwhile(store_a, staff_client):
    sku = store_a.sku  # the form was rendered with stock 97; then an order takes one more
    Sku.objects.filter(pk=sku.pk).update(stock=96)
    data = product_form_data(store_a.product, [sku], **{"skus-0-price": "120.00"})

    response = staff_client.post(url(Product, "change", store_a.product.pk), data)

    assert response.status_code == 302
    sku.refresh_from_db()
    assert (sku.price, sku.stock) == (Decimal("120.00"), 96)


def test_restocking_in_the_inline_keeps_stock_sold_meanwhile(store_a, staff_client):
    sku = store_a.sku  # the form was rendered with stock 97; then an order takes one more
    Sku.objects.filter(pk=sku.pk).update(stock=96)
    data = product_form_data(
        store_a.product,
        [sku],
        **{"skus-0-price": "100.00", "skus-0-stock": "107"},  # ten received
    )

    response = staff_client.post(url(Product, "change", store_a.product.pk), data)

    assert response.status_code == 302
    assert Sku.objects.get(pk=sku.pk).stock == 106


def test_restocking_a_sku_keeps_stock_sold_meanwhile(store_a, staff_client):
    sku = store_a.sku
    Sku.objects.filter(pk=sku.pk).update(stock=95)  # two sold after the form showed 97

    response = staff_client.post(
        url(Sku, "change", sku.pk),
        sku_data(store_a.product, name=sku.name, code=sku.code, price="100.00", stock="90")
        | {"initial-stock": "97"},
    )

    assert response.status_code == 302
    assert Sku.objects.values_list("price", "stock").get(pk=sku.pk) == (Decimal("100.00"), 88)


def test_removing_more_stock_than_is_left_is_refused_as_a_form_error(store_a, staff_client):
    sku = store_a.sku
    Sku.objects.filter(pk=sku.pk).update(stock=3)  # 94 sold after the form showed 97

    response = staff_client.post(
        url(Sku, "change", sku.pk),
        sku_data(store_a.product, name=sku.name, code=sku.code, price="150.00", stock="0")
        | {"initial-stock": "97"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Only 3 in stock: cannot remove 97."
    ]
    assert Sku.objects.values_list("price", "stock").get(pk=sku.pk) == (Decimal("100.00"), 3)


def test_sku_list_filter_offers_only_own_products(store_a, store_b, staff_client, operator):
    second = SkuFactory(product__merchant=store_a.merchant, product__name="Zz second").product

    response = staff_client.get(url(Sku, "changelist"))

    product_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.field_path == "product"
    )
    assert sorted(product_filter.lookup_choices) == [
        (store_a.product.pk, store_a.product.name),
        (second.pk, "Zz second"),
    ]
    assert [spec.field_path for spec in response.context["cl"].filter_specs] == [
        "is_active",
        "product",
    ]

    staff_client.force_login(operator)
    response = staff_client.get(url(Sku, "changelist"))
    specs = {spec.field_path: spec for spec in response.context["cl"].filter_specs}
    assert set(specs) == {"merchant", "is_active", "product"}
    assert {pk for pk, _name in specs["product"].lookup_choices} == {
        store_a.product.pk,
        second.pk,
        store_b.product.pk,
    }


def test_search_finds_only_own_rows(store_a, store_b, staff_client):
    response = staff_client.get(url(Sku, "changelist"), {"q": store_b.sku.code})
    assert response.context["cl"].result_count == 0

    response = staff_client.get(url(Distributor, "changelist"), {"q": store_b.root.invite_code})
    assert response.context["cl"].result_count == 0

    response = staff_client.get(url(Distributor, "changelist"), {"q": store_a.root.invite_code})
    assert [row.pk for row in response.context["cl"].result_list] == [store_a.root.pk]


def test_filtering_by_another_merchants_id_in_the_url_finds_nothing(store_a, store_b, staff_client):
    SkuFactory(product__merchant=store_a.merchant)  # two products: the product filter is shown

    response = staff_client.get(url(Sku, "changelist"), {"product__id__exact": store_b.product.pk})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_autocomplete_returns_only_own_objects(store_a, store_b, staff_client, operator):
    products = autocomplete(staff_client, "products", "sku", "product")
    parents = autocomplete(staff_client, "distributors", "distributor", "parent")
    searched = autocomplete(
        staff_client, "distributors", "distributor", "parent", term=store_b.root.invite_code
    )

    assert products.status_code == parents.status_code == 200
    assert [int(row["id"]) for row in products.json()["results"]] == [store_a.product.pk]
    assert {int(row["id"]) for row in parents.json()["results"]} == {
        store_a.root.pk,
        store_a.child.pk,
    }
    assert searched.json()["results"] == []

    staff_client.force_login(operator)
    everyone = autocomplete(staff_client, "distributors", "distributor", "parent")
    assert len(everyone.json()["results"]) == 4


@pytest.mark.parametrize(
    ("app_label", "model_name", "field_name"),
    [
        ("orders", "order", "customer"),
        ("merchants", "merchantstaff", "merchant"),
        ("distributors", "distributor", "user"),
        ("commissions", "commissionplan", "merchant"),
    ],
)
def test_autocomplete_of_operator_models_is_refused_to_staff(
    store_a, staff_client, app_label, model_name, field_name
):
    assert autocomplete(staff_client, app_label, model_name, field_name).status_code == 403


def test_distributor_parent_dropdown_lists_only_own_distributors(store_a, store_b, staff_client):
    response = staff_client.get(url(Distributor, "change", store_a.child.pk))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.fields) == ["parent"]
    assert set(form.fields["parent"].queryset.values_list("pk", flat=True)) == {
        store_a.root.pk,
        store_a.child.pk,
    }


def test_distributor_cannot_be_moved_under_another_merchants_distributor(
    store_a, store_b, staff_client
):
    response = staff_client.post(
        url(Distributor, "change", store_a.child.pk), {"parent": store_b.root.pk}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert Distributor.objects.get(pk=store_a.child.pk).parent_id == store_a.root.pk


def test_distributor_cannot_be_moved_into_its_own_team(store_a, staff_client):
    response = staff_client.post(
        url(Distributor, "change", store_a.root.pk), {"parent": store_a.child.pk}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        "A distributor cannot be placed under itself or under someone in its own team."
    ]
    assert Distributor.objects.get(pk=store_a.root.pk).parent_id is None


def test_moving_a_distributor_keeps_the_tree_and_the_order_snapshots(store_a, staff_client):
    grandchild = distributor_join(
        merchant=store_a.merchant, user=UserFactory(), invite_code=store_a.child.invite_code
    )
    other_root = distributor_join(merchant=store_a.merchant, user=UserFactory())

    response = staff_client.post(
        url(Distributor, "change", store_a.child.pk), {"parent": other_root.pk}
    )

    assert response.status_code == 302
    root, child, grandchild, other_root = (
        Distributor.objects.get(pk=node.pk)
        for node in (store_a.root, store_a.child, grandchild, other_root)
    )
    assert (child.parent_id, child.tree_id, child.level) == (other_root.pk, other_root.tree_id, 1)
    assert (grandchild.parent_id, grandchild.tree_id, grandchild.level) == (
        child.pk,
        other_root.tree_id,
        2,
    )
    assert Distributor.objects.filter(tree_id=root.tree_id).count() == 1
    assert (
        other_root.lft < child.lft < grandchild.lft < grandchild.rght < child.rght < other_root.rght
    )
    assert_trees_valid()
    store_a.paid.refresh_from_db()
    assert (store_a.paid.distributor_id, store_a.paid.level2_distributor_id) == (child.pk, root.pk)


def test_moving_a_distributor_to_the_top_makes_a_new_tree(store_a, store_b, staff_client):
    response = staff_client.post(url(Distributor, "change", store_a.child.pk), {"parent": ""})

    assert response.status_code == 302
    child = Distributor.objects.get(pk=store_a.child.pk)
    trees = set(Distributor.objects.values_list("tree_id", flat=True))
    assert (child.parent_id, child.level) == (None, 0)
    assert Distributor.objects.filter(tree_id=child.tree_id).count() == 1
    assert_trees_valid()
    assert len(trees) == 3


def test_distributors_are_not_added_or_deleted_in_the_admin(store_a, staff_client, operator):
    assert staff_client.get(url(Distributor, "add")).status_code == 403
    assert staff_client.get(url(Distributor, "delete", store_a.child.pk)).status_code == 403
    staff_client.force_login(operator)
    assert staff_client.get(url(Distributor, "add")).status_code == 403


def test_suspend_and_reactivate_distributors(store_a, store_b, staff_client):
    selected = [store_a.root.pk, store_a.child.pk, store_b.root.pk]

    suspended = staff_client.post(
        url(Distributor, "changelist"),
        {"action": "suspend_distributors", "_selected_action": selected},
    )

    assert suspended.status_code == 302
    assert dict(Distributor.objects.values_list("pk", "status")) == {
        store_a.root.pk: "suspended",
        store_a.child.pk: "suspended",
        store_b.root.pk: "active",
        store_b.child.pk: "active",
    }
    staff_client.post(
        url(Distributor, "changelist"),
        {"action": "reactivate_distributors", "_selected_action": [store_a.child.pk]},
    )
    assert Distributor.objects.get(pk=store_a.child.pk).status == "active"
    assert Distributor.objects.get(pk=store_a.root.pk).status == "suspended"


def plan_data(**overrides):
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
    return {**data, **overrides}


def test_commission_plan_over_its_cap_shows_the_models_message(store_a, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)

    response = staff_client.post(
        url(CommissionPlan, "change", plan.pk), plan_data(level1_percent="25.00")
    )

    assert response.status_code == 200
    assert "The levels add up to 32.00%, more than the cap of 30.00%." in (
        response.context["adminform"].form.non_field_errors()
    )
    plan.refresh_from_db()
    assert plan.level1_percent == Decimal("10.00")


def test_merchant_edits_its_commission_plan(store_a, staff_client):
    plan = CommissionPlan.objects.get(merchant=store_a.merchant)

    response = staff_client.post(url(CommissionPlan, "change", plan.pk), plan_data())

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.level1_percent, plan.freeze_days, plan.merchant_id) == (
        Decimal("12.00"),
        10,
        store_a.merchant.pk,
    )


def test_commission_plan_can_be_added_only_when_missing(store_a, store_b, staff_client):
    assert staff_client.get(url(CommissionPlan, "add")).status_code == 403

    CommissionPlan.objects.filter(merchant=store_a.merchant).delete()
    response = staff_client.post(url(CommissionPlan, "add"), plan_data())

    assert response.status_code == 302
    assert CommissionPlan.objects.get(merchant=store_a.merchant).level1_percent == Decimal("12.00")
    assert CommissionPlan.objects.count() == 2


def test_sku_autocomplete_searches_own_skus_by_code(store_a, store_b, staff_client):
    by_code = autocomplete(staff_client, "orders", "orderline", "sku", term=store_a.sku.code)
    other_code = autocomplete(staff_client, "orders", "orderline", "sku", term=store_b.sku.code)
    everything = autocomplete(staff_client, "orders", "orderline", "sku")

    assert [int(row["id"]) for row in by_code.json()["results"]] == [store_a.sku.pk]
    assert other_code.json()["results"] == []
    assert [int(row["id"]) for row in everything.json()["results"]] == [store_a.sku.pk]


def test_operator_cannot_join_two_merchants_in_one_row(store_a, store_b, operator_client):
    data = {**sku_data(store_b.product), "merchant": store_a.merchant.pk}

    response = operator_client.post(url(Sku, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["product"] == [
        "This belongs to another merchant."
    ]
    assert Sku.objects.filter(code="L-001").count() == 0


def test_operator_adds_a_product_for_a_merchant_with_its_skus(store_b, operator_client):
    response = operator_client.post(
        url(Product, "add"), new_product_data(merchant=store_b.merchant.pk)
    )

    assert response.status_code == 302
    sku = Sku.objects.select_related("product").get(code="TEA-250")
    assert (sku.merchant_id, sku.product.merchant_id) == (store_b.merchant.pk, store_b.merchant.pk)
