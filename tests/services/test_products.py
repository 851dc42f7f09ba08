from decimal import Decimal

import pytest

from apps.core.errors import Conflict, DomainError, NotFound
from apps.orders.models import Order
from apps.products.models import Product, Sku
from apps.products.services import (
    product_create,
    product_delete,
    product_update,
    sku_adjust_stock,
    sku_create,
    sku_delete,
    sku_set_stock,
    sku_update,
)
from tests.concurrency.conftest import race
from tests.factories import ProductFactory, SkuFactory, UserFactory

from .flows import place

D = Decimal


def sku_row(sku_id):
    return Sku.objects.values_list(
        "merchant_id", "product_id", "name", "code", "price", "stock", "is_active"
    ).get(pk=sku_id)


# --- products ---------------------------------------------------------------------------------


def test_product_create_belongs_to_the_merchant(merchant):
    product = product_create(
        merchant=merchant, name="  Longjing  ", description="Spring", sort_order=3
    )

    assert Product.objects.values_list(
        "merchant_id", "name", "description", "is_active", "sort_order", "image"
    ).get(pk=product.pk) == (merchant.pk, "Longjing", "Spring", True, 3, "")


def test_product_needs_a_name(merchant):
    with pytest.raises(DomainError) as refused:
        product_create(merchant=merchant, name="   ")

    assert (refused.value.code, refused.value.status) == ("name_required", 400)
    assert Product.objects.count() == 0


def test_product_update_writes_only_the_given_fields(merchant):
    product = ProductFactory(merchant=merchant, name="Old", description="Kept", sort_order=1)

    updated = product_update(merchant=merchant, product_id=product.pk, name="New", is_active=False)

    assert (updated.name, updated.is_active) == ("New", False)
    assert Product.objects.values_list("name", "description", "is_active", "sort_order").get(
        pk=product.pk
    ) == ("New", "Kept", False, 1)


def test_another_merchants_product_is_not_found_and_not_changed(merchant, other_merchant):
    theirs = ProductFactory(merchant=other_merchant, name="Theirs")

    with pytest.raises(NotFound) as update:
        product_update(merchant=merchant, product_id=theirs.pk, name="Mine now")
    with pytest.raises(NotFound) as delete:
        product_delete(merchant=merchant, product_id=theirs.pk)

    assert (update.value.code, update.value.status) == ("unknown_product", 404)
    assert delete.value.code == "unknown_product"
    assert Product.objects.values_list("merchant_id", "name").get(pk=theirs.pk) == (
        other_merchant.pk,
        "Theirs",
    )


def test_product_update_refuses_stock_and_merchant_fields(merchant):
    product = ProductFactory(merchant=merchant)

    with pytest.raises(TypeError):
        product_update(merchant=merchant, product_id=product.pk, merchant_id=99)


def test_a_product_with_skus_is_protected_and_an_empty_one_is_deleted(merchant, sku):
    empty = ProductFactory(merchant=merchant)

    with pytest.raises(Conflict) as refused:
        product_delete(merchant=merchant, product_id=sku.product_id)
    product_delete(merchant=merchant, product_id=empty.pk)

    assert (refused.value.code, refused.value.status) == ("protected", 409)
    assert list(Product.objects.values_list("pk", flat=True)) == [sku.product_id]


# --- SKUs -------------------------------------------------------------------------------------


def test_sku_create(merchant):
    product = ProductFactory(merchant=merchant)

    sku = sku_create(
        merchant=merchant,
        product_id=product.pk,
        name="250 g",
        code=" TEA-250 ",
        price="38.5",
        stock=12,
    )

    assert sku_row(sku.pk) == (merchant.pk, product.pk, "250 g", "TEA-250", D("38.50"), 12, True)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"price": D("0")}, "invalid_price"),
        ({"price": D("0.00")}, "invalid_price"),
        ({"price": D("-1.00")}, "invalid_price"),
        ({"price": D("1.001")}, "invalid_price"),
        ({"price": "abc"}, "invalid_price"),
        ({"price": 1.5}, "invalid_price"),
        ({"price": D("NaN")}, "invalid_price"),
        ({"price": D("10000000000.00")}, "invalid_price"),
        ({"stock": -1}, "invalid_stock"),
        ({"stock": 2_147_483_648}, "invalid_stock"),
        ({"stock": 1.0}, "invalid_stock"),
        ({"code": "  "}, "sku_code_required"),
        ({"name": ""}, "name_required"),
    ],
)
def test_bad_sku_is_refused_and_nothing_written(merchant, change, code):
    product = ProductFactory(merchant=merchant)
    fields = {"name": "S", "code": "NEW", "price": D("1.00"), "stock": 1, **change}

    with pytest.raises(DomainError) as refused:
        sku_create(merchant=merchant, product_id=product.pk, **fields)

    assert (refused.value.code, refused.value.status) == (code, 400)
    assert Sku.objects.count() == 0


def test_sku_code_is_unique_within_a_merchant_only(merchant, other_merchant, sku):
    own_product = ProductFactory(merchant=merchant)
    their_product = ProductFactory(merchant=other_merchant)

    with pytest.raises(Conflict) as refused:
        sku_create(merchant=merchant, product_id=own_product.pk, name="X", code=sku.code, price=1)
    theirs = sku_create(
        merchant=other_merchant, product_id=their_product.pk, name="X", code=sku.code, price=1
    )

    assert (refused.value.code, refused.value.status) == ("sku_code_taken", 409)
    assert refused.value.message == (
        f"Another SKU of this store already has the code “{sku.code}”."
    )
    assert sorted(Sku.objects.filter(code=sku.code).values_list("merchant_id", flat=True)) == [
        merchant.pk,
        other_merchant.pk,
    ]
    assert theirs.merchant_id == other_merchant.pk


def test_sku_on_another_merchants_product_is_not_found(merchant, other_merchant):
    theirs = ProductFactory(merchant=other_merchant)

    with pytest.raises(NotFound) as refused:
        sku_create(merchant=merchant, product_id=theirs.pk, name="X", code="X", price=1)

    assert (refused.value.code, refused.value.status) == ("unknown_product", 404)
    assert Sku.objects.count() == 0


def test_sku_update_writes_the_given_fields_and_never_stock(merchant, sku):
    # the caller read stock 100; an order takes 3 before the edit is saved
    Sku.objects.filter(pk=sku.pk).update(stock=97)

    updated = sku_update(merchant=merchant, sku_id=sku.pk, price="120", code=" NEW-1 ")

    assert (updated.price, updated.code) == (D("120.00"), "NEW-1")
    assert sku_row(sku.pk) == (
        merchant.pk,
        sku.product_id,
        sku.name,
        "NEW-1",
        D("120.00"),
        97,
        True,
    )
    with pytest.raises(TypeError):
        sku_update(merchant=merchant, sku_id=sku.pk, stock=500)
    assert Sku.objects.get(pk=sku.pk).stock == 97


def test_sku_update_refuses_a_taken_code_and_a_bad_price(merchant, sku):
    other = SkuFactory(product=sku.product, code="OTHER")

    with pytest.raises(Conflict) as taken:
        sku_update(merchant=merchant, sku_id=sku.pk, code="OTHER", price="5.00")
    with pytest.raises(DomainError) as bad_price:
        sku_update(merchant=merchant, sku_id=sku.pk, price="0")

    assert (taken.value.code, bad_price.value.code) == ("sku_code_taken", "invalid_price")
    assert sku_row(sku.pk) == (
        merchant.pk,
        sku.product_id,
        sku.name,
        sku.code,
        D("100.00"),
        100,
        True,
    )
    assert Sku.objects.get(pk=other.pk).code == "OTHER"


def test_sku_moves_to_own_products_only(merchant, other_merchant, sku):
    own = ProductFactory(merchant=merchant)
    theirs = ProductFactory(merchant=other_merchant)

    sku_update(merchant=merchant, sku_id=sku.pk, product_id=own.pk)
    with pytest.raises(NotFound) as refused:
        sku_update(merchant=merchant, sku_id=sku.pk, product_id=theirs.pk, name="Moved")

    assert refused.value.code == "unknown_product"
    assert Sku.objects.values_list("product_id", "name").get(pk=sku.pk) == (own.pk, sku.name)


def test_another_merchants_sku_is_not_found_and_not_changed(merchant, other_merchant):
    theirs = SkuFactory(product__merchant=other_merchant, stock=5)
    before = sku_row(theirs.pk)

    calls = [
        lambda: sku_update(merchant=merchant, sku_id=theirs.pk, name="Mine"),
        lambda: sku_adjust_stock(merchant=merchant, sku_id=theirs.pk, delta=10),
        lambda: sku_set_stock(merchant=merchant, sku_id=theirs.pk, expected=5, new=50),
        lambda: sku_delete(merchant=merchant, sku_id=theirs.pk),
    ]
    codes = []
    for call in calls:
        with pytest.raises(NotFound) as refused:
            call()
        codes.append((refused.value.code, refused.value.status))

    assert codes == [("unknown_sku", 404)] * 4
    assert sku_row(theirs.pk) == before


def test_adjust_stock_adds_to_the_current_figure(merchant, sku):
    Sku.objects.filter(pk=sku.pk).update(stock=96)  # sold since the staff member looked

    assert sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=10) == 106
    assert sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=-6) == 100
    assert sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=0) == 100
    assert Sku.objects.get(pk=sku.pk).stock == 100


def test_adjust_stock_never_goes_below_zero(merchant, sku):
    with pytest.raises(Conflict) as refused:
        sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=-101)

    assert (refused.value.code, refused.value.message) == (
        "insufficient_stock",
        "Only 100 in stock: cannot remove 101.",
    )
    assert sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=-100) == 0


MAX_STOCK = 2_147_483_647  # PostgreSQL integer


@pytest.mark.parametrize(
    "delta",
    [MAX_STOCK + 1, -(MAX_STOCK + 1), 10**30, -(10**30)],
)
def test_adjust_stock_refuses_a_delta_beyond_the_stock_column(merchant, sku, delta):
    with pytest.raises(DomainError) as refused:
        sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=delta)

    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "invalid_stock",
        400,
        "Stock changes by at most 2147483647 at a time.",
    )
    assert Sku.objects.get(pk=sku.pk).stock == 100


def test_adjust_stock_refuses_a_result_beyond_the_stock_column(merchant, sku):
    with pytest.raises(DomainError) as refused:
        sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=MAX_STOCK - 99)

    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "invalid_stock",
        400,
        "Stock cannot exceed 2147483647.",
    )
    assert Sku.objects.get(pk=sku.pk).stock == 100
    # up to the largest stock the column holds is fine, and down from it again
    assert sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=MAX_STOCK - 100) == MAX_STOCK
    assert sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=-MAX_STOCK) == 0


def test_set_stock_is_a_compare_and_swap(merchant, sku):
    Sku.objects.filter(pk=sku.pk).update(stock=98)  # two sold since the caller read 100

    with pytest.raises(Conflict) as refused:
        sku_set_stock(merchant=merchant, sku_id=sku.pk, expected=100, new=150)
    assert (refused.value.code, refused.value.status) == ("stock_changed", 409)
    assert Sku.objects.get(pk=sku.pk).stock == 98

    assert sku_set_stock(merchant=merchant, sku_id=sku.pk, expected=98, new=150) == 150
    assert Sku.objects.get(pk=sku.pk).stock == 150
    with pytest.raises(DomainError) as negative:
        sku_set_stock(merchant=merchant, sku_id=sku.pk, expected=150, new=-1)
    assert negative.value.code == "invalid_stock"
    assert Sku.objects.get(pk=sku.pk).stock == 150


def test_an_ordered_sku_is_protected(merchant, sku, customer):
    place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    spare = SkuFactory(product=sku.product)

    with pytest.raises(Conflict) as refused:
        sku_delete(merchant=merchant, sku_id=sku.pk)
    sku_delete(merchant=merchant, sku_id=spare.pk)

    assert refused.value.code == "protected"
    assert list(Sku.objects.values_list("pk", flat=True)) == [sku.pk]


# --- concurrent sales and stock edits ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_restocking_while_buyers_order_loses_no_sale(merchant):
    # given 10 units; eight buyers order one each while staff add 20 units
    sku = SkuFactory(product__merchant=merchant, stock=10)
    buyers = UserFactory.create_batch(8)

    outcomes = race(
        [
            lambda: sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=20),
            *[
                lambda buyer=buyer: place(merchant=merchant, customer=buyer, lines=[(sku, 1)])
                for buyer in buyers
            ],
        ]
    )

    # then every order and the restock count: 10 + 20 - 8
    assert [outcome.error for outcome in outcomes] == [None] * 9
    assert Order.objects.count() == 8
    assert Sku.objects.get(pk=sku.pk).stock == 22


@pytest.mark.django_db(transaction=True)
def test_setting_stock_while_buyers_order_never_puts_sold_units_back(merchant):
    # given 10 units; a staff member who saw 10 sets 50 while eight buyers order one each
    sku = SkuFactory(product__merchant=merchant, stock=10)
    buyers = UserFactory.create_batch(8)

    outcomes = race(
        [
            lambda: sku_set_stock(merchant=merchant, sku_id=sku.pk, expected=10, new=50),
            *[
                lambda buyer=buyer: place(merchant=merchant, customer=buyer, lines=[(sku, 1)])
                for buyer in buyers
            ],
        ]
    )

    # then every order went through; the new figure applied only if no order came first, and
    # every order placed after it was taken from it
    staff, orders = outcomes[0], outcomes[1:]
    assert [outcome.error for outcome in orders] == [None] * 8
    stock = Sku.objects.get(pk=sku.pk).stock
    if staff.error is None:  # the swap found 10: no order had come first
        assert stock == 50 - 8
    else:
        assert (type(staff.error), staff.error.code) == (Conflict, "stock_changed")
        assert stock == 10 - 8
