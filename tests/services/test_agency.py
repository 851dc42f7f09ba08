"""Agency mode (差价) on the order side: purchase prices, resale prices within the floor and ceiling,
the snapshot on order lines, and self-purchase commission (自购返佣) in the upline snapshot."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, DomainError, NotFound
from apps.distributors.agency import (
    distributor_price_clear,
    distributor_price_set,
    tier_price_create,
    tier_price_update,
)
from apps.distributors.models import Distributor, DistributorPrice, ProgrammeSettings, Tier
from apps.distributors.services import distributor_join
from apps.orders.models import CartItem, OrderLine
from apps.orders.selectors import cart_summary
from apps.orders.services import cart_add_item, order_place, order_place_from_cart
from apps.products.models import Sku
from apps.products.services import sku_update

from ..factories import SkuFactory, UserFactory
from .flows import RECIPIENT, bind, place

D = Decimal


def programme(merchant, **fields):
    ProgrammeSettings.objects.update_or_create(merchant=merchant, defaults=fields)


@pytest.fixture
def shop(merchant):
    """An agency store: a SKU at ¥100 (floor 80, ceiling 150), base purchase price ¥60, a gold
    tier at ¥50, and a distributor without a tier."""
    programme(merchant, agency_enabled=True)
    sku = SkuFactory(
        product__merchant=merchant,
        price=D("100.00"),
        stock=50,
        min_resale_price=D("80.00"),
        max_resale_price=D("150.00"),
    )
    gold = Tier.objects.create(merchant=merchant, name="Gold", rank=2)
    tier_price_create(merchant=merchant, tier_id=None, sku_id=sku.pk, purchase_price="60.00")
    tier_price_create(merchant=merchant, tier_id=gold.pk, sku_id=sku.pk, purchase_price="50.00")
    seller = distributor_join(merchant=merchant, user=UserFactory())
    return sku, gold, seller


def buy_from_shop(merchant, customer, sku, seller, quantity=1, **kwargs):
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=quantity,
        shop_code=seller.invite_code,
    )
    return order_place_from_cart(
        merchant=merchant, customer=customer, recipient=RECIPIENT, **kwargs
    )


def agency_line(order):
    return (
        OrderLine.objects.filter(order=order)
        .values_list(
            "unit_price", "quantity", "paid_amount", "agency_distributor", "agency_unit_cost"
        )
        .get()
    )


# --- setting a resale price -------------------------------------------------------------------


def test_a_resale_price_within_the_range_is_kept(shop):
    sku, _gold, seller = shop
    price = distributor_price_set(distributor=seller, sku_id=sku.pk, price="129.90")
    assert (price.sku_id, price.price) == (sku.pk, D("129.90"))
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="80.00")  # exactly the floor
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="150.00")  # the ceiling
    assert list(DistributorPrice.objects.values_list("price", flat=True)) == [D("150.00")]


@pytest.mark.parametrize(
    ("price", "code"),
    [
        ("79.99", "below_floor"),
        ("150.01", "above_ceiling"),
        ("0", "invalid_price"),
        ("-5", "invalid_price"),
        ("99.999", "invalid_price"),
        ("abc", "invalid_price"),
        ("NaN", "invalid_price"),
    ],
)
def test_a_resale_price_outside_the_range_is_refused(shop, price, code):
    sku, _gold, seller = shop
    with pytest.raises(DomainError) as refused:
        distributor_price_set(distributor=seller, sku_id=sku.pk, price=price)
    assert refused.value.code == code
    assert DistributorPrice.objects.count() == 0


def test_not_below_the_purchase_price_when_it_is_above_the_floor(shop, merchant):
    sku, _gold, seller = shop
    sku_update(merchant=merchant, sku_id=sku.pk, min_resale_price=None)
    with pytest.raises(DomainError) as refused:
        distributor_price_set(distributor=seller, sku_id=sku.pk, price="59.99")
    assert refused.value.code == "below_floor"
    assert "¥60.00" in refused.value.message
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="60.00")


def test_no_purchase_price_means_not_for_agency(merchant, shop):
    _sku, _gold, seller = shop
    plain = SkuFactory(product__merchant=merchant, price=D("10.00"))
    with pytest.raises(DomainError) as refused:
        distributor_price_set(distributor=seller, sku_id=plain.pk, price="10.00")
    assert refused.value.code == "not_for_agency"


def test_agency_off_refuses_resale_prices(merchant, shop):
    sku, _gold, seller = shop
    programme(merchant, agency_enabled=False)
    with pytest.raises(DomainError) as refused:
        distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
    assert refused.value.code == "agency_disabled"


def test_another_merchants_sku_is_absent(shop, other_merchant):
    _sku, _gold, seller = shop
    foreign = SkuFactory(product__merchant=other_merchant)
    with pytest.raises(NotFound):
        distributor_price_set(distributor=seller, sku_id=foreign.pk, price="120.00")
    with pytest.raises(NotFound):
        distributor_price_clear(distributor=seller, sku_id=foreign.pk)


def test_another_merchants_tier_or_sku_is_absent_for_purchase_prices(merchant, other_merchant):
    foreign_tier = Tier.objects.create(merchant=other_merchant, name="X", rank=1)
    foreign_sku = SkuFactory(product__merchant=other_merchant)
    own_sku = SkuFactory(product__merchant=merchant)
    with pytest.raises(NotFound):
        tier_price_create(
            merchant=merchant, tier_id=foreign_tier.pk, sku_id=own_sku.pk, purchase_price="1.00"
        )
    with pytest.raises(NotFound):
        tier_price_create(
            merchant=merchant, tier_id=None, sku_id=foreign_sku.pk, purchase_price="1.00"
        )


def test_one_base_price_per_sku(merchant, shop):
    sku, _gold, _seller = shop
    with pytest.raises(DomainError) as refused:
        tier_price_create(merchant=merchant, tier_id=None, sku_id=sku.pk, purchase_price="61.00")
    assert refused.value.code == "tier_price_taken"


# --- the catalogue's price control ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"min_resale_price": "160.00", "max_resale_price": "150.00"}, "floor_above_ceiling"),
        ({"min_resale_price": "100.01"}, "price_below_floor"),
        ({"max_resale_price": "99.99"}, "price_above_ceiling"),
        ({"price": "79.99"}, "price_below_floor"),
        ({"min_resale_price": "0"}, "invalid_price"),
    ],
)
def test_floor_and_ceiling_are_validated(shop, merchant, fields, code):
    sku, _gold, _seller = shop
    with pytest.raises(DomainError) as refused:
        sku_update(merchant=merchant, sku_id=sku.pk, **fields)
    assert refused.value.code == code
    sku.refresh_from_db()
    assert (sku.price, sku.min_resale_price, sku.max_resale_price) == (
        D("100.00"),
        D("80.00"),
        D("150.00"),
    )


def test_the_database_refuses_a_floor_above_the_ceiling(shop):
    sku, _gold, _seller = shop
    with pytest.raises(IntegrityError), transaction.atomic():
        Sku.objects.filter(pk=sku.pk).update(min_resale_price=D("151.00"), price=D("151.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Sku.objects.filter(pk=sku.pk).update(price=D("79.00"))


# --- placing orders ---------------------------------------------------------------------------


def test_a_micro_shop_line_is_placed_at_the_resale_price_with_the_snapshot(
    shop, merchant, customer
):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="129.90")
    order = buy_from_shop(merchant, customer, sku, seller, quantity=2)
    assert agency_line(order) == (D("129.90"), 2, D("259.80"), seller.pk, D("60.00"))
    assert (order.goods_amount, order.payable_amount) == (D("259.80"), D("259.80"))
    assert CartItem.objects.count() == 0


def test_the_tier_price_wins_over_the_base_price(shop, merchant, customer):
    sku, gold, seller = shop
    Distributor.objects.filter(pk=seller.pk).update(tier=gold)
    order = buy_from_shop(merchant, customer, sku, seller)
    # no resale price set: the store price, the gold purchase price as cost
    assert agency_line(order) == (D("100.00"), 1, D("100.00"), seller.pk, D("50.00"))


def test_a_tier_without_its_own_price_uses_the_base_price(shop, merchant, customer):
    sku, _gold, seller = shop
    silver = Tier.objects.create(merchant=merchant, name="Silver", rank=1)
    Distributor.objects.filter(pk=seller.pk).update(tier=silver)
    order = buy_from_shop(merchant, customer, sku, seller)
    assert agency_line(order)[3:] == (seller.pk, D("60.00"))


def test_a_sku_without_purchase_price_is_a_plain_line(merchant, shop, customer):
    _sku, _gold, seller = shop
    plain = SkuFactory(product__merchant=merchant, price=D("10.00"))
    order = buy_from_shop(merchant, customer, plain, seller)
    assert agency_line(order) == (D("10.00"), 1, D("10.00"), None, None)


def test_the_purchase_price_snapshot_does_not_follow_later_changes(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
    order = buy_from_shop(merchant, customer, sku, seller)
    base = sku.tier_prices.get(tier=None)
    tier_price_update(merchant=merchant, tier_price_id=base.pk, purchase_price="70.00")
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="140.00")
    sku_update(merchant=merchant, sku_id=sku.pk, min_resale_price="90.00")
    assert agency_line(order) == (D("120.00"), 1, D("120.00"), seller.pk, D("60.00"))


def test_a_stored_price_below_a_raised_floor_is_sold_at_the_floor(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="85.00")
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=1,
        shop_code=seller.invite_code,
    )
    sku_update(merchant=merchant, sku_id=sku.pk, min_resale_price="95.00")

    assert cart_summary(merchant=merchant, customer=customer).total == D("95.00")
    order = order_place_from_cart(merchant=merchant, customer=customer, recipient=RECIPIENT)
    assert agency_line(order) == (D("95.00"), 1, D("95.00"), seller.pk, D("60.00"))


def test_a_stored_price_above_a_lowered_ceiling_is_sold_at_the_ceiling(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="150.00")
    sku_update(merchant=merchant, sku_id=sku.pk, max_resale_price="110.00")
    order = buy_from_shop(merchant, customer, sku, seller)
    assert agency_line(order)[:3] == (D("110.00"), 1, D("110.00"))


def test_a_raised_purchase_price_never_makes_a_negative_margin(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="85.00")
    base = sku.tier_prices.get(tier=None)
    tier_price_update(merchant=merchant, tier_price_id=base.pk, purchase_price="90.00")
    order = buy_from_shop(merchant, customer, sku, seller)
    assert agency_line(order) == (D("90.00"), 1, D("90.00"), seller.pk, D("90.00"))


def test_a_purchase_price_above_the_ceiling_leaves_a_plain_line(shop, merchant, customer):
    sku, _gold, seller = shop
    base = sku.tier_prices.get(tier=None)
    tier_price_update(merchant=merchant, tier_price_id=base.pk, purchase_price="160.00")
    order = buy_from_shop(merchant, customer, sku, seller)
    assert agency_line(order) == (D("100.00"), 1, D("100.00"), None, None)


def test_a_total_that_changed_since_it_was_shown_is_refused(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=2,
        shop_code=seller.invite_code,
    )
    shown = cart_summary(merchant=merchant, customer=customer).total
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="130.00")

    with pytest.raises(Conflict) as refused:
        order_place_from_cart(
            merchant=merchant, customer=customer, recipient=RECIPIENT, expected_total=shown
        )
    assert refused.value.code == "prices_changed"
    sku.refresh_from_db()
    assert sku.stock == 50  # the reservation was rolled back
    assert CartItem.objects.count() == 1
    order = order_place_from_cart(
        merchant=merchant, customer=customer, recipient=RECIPIENT, expected_total=D("260.00")
    )
    assert order.payable_amount == D("260.00")


def test_agency_off_ignores_micro_shop_prices(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="130.00")
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=1,
        shop_code=seller.invite_code,
    )
    programme(merchant, agency_enabled=False)
    assert cart_summary(merchant=merchant, customer=customer).total == D("100.00")
    order = order_place_from_cart(merchant=merchant, customer=customer, recipient=RECIPIENT)
    assert agency_line(order) == (D("100.00"), 1, D("100.00"), None, None)


def test_a_suspended_shop_owner_sells_nothing_at_agency_prices(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="130.00")
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=1,
        shop_code=seller.invite_code,
    )
    Distributor.objects.filter(pk=seller.pk).update(status=Distributor.Status.SUSPENDED)
    order = order_place_from_cart(merchant=merchant, customer=customer, recipient=RECIPIENT)
    assert agency_line(order) == (D("100.00"), 1, D("100.00"), None, None)


def test_explicit_lines_with_a_shop_code(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="99.00")
    order = order_place(
        merchant=merchant,
        customer=customer,
        lines=[(sku.pk, 3)],
        recipient=RECIPIENT,
        shop_code=seller.invite_code.lower(),
    )
    assert agency_line(order) == (D("99.00"), 3, D("297.00"), seller.pk, D("60.00"))
    plain = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    assert agency_line(plain) == (D("100.00"), 1, D("100.00"), None, None)


def test_an_unknown_or_foreign_shop_code_is_absent(shop, merchant, other_merchant, customer):
    sku, _gold, _seller = shop
    foreign = distributor_join(merchant=other_merchant, user=UserFactory())
    for code in (foreign.invite_code, "ZZZZZZZZ"):
        with pytest.raises(DomainError):
            cart_add_item(
                merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1, shop_code=code
            )
    assert CartItem.objects.count() == 0


def test_the_latest_addition_decides_the_lines_shop(shop, merchant, customer):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=1,
        shop_code=seller.invite_code,
    )
    item = cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)
    assert (item.quantity, item.agency_distributor_id) == (2, None)
    assert cart_summary(merchant=merchant, customer=customer).total == D("200.00")


def test_the_database_refuses_a_line_below_its_purchase_price(shop, merchant, customer):
    sku, _gold, seller = shop
    order = buy_from_shop(merchant, customer, sku, seller)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(order=order).update(agency_unit_cost=D("100.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(order=order).update(agency_unit_cost=None)


# --- self-purchase in the agency shop and the upline snapshot ---------------------------------


def test_buying_in_ones_own_shop_without_self_purchase_is_a_plain_line(shop, merchant):
    sku, _gold, seller = shop
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
    order = buy_from_shop(merchant, seller.user, sku, seller)
    assert agency_line(order) == (D("100.00"), 1, D("100.00"), None, None)


def test_buying_in_ones_own_shop_with_self_purchase_is_an_agency_line(shop, merchant):
    sku, _gold, seller = shop
    programme(merchant, agency_enabled=True, self_purchase_commission=True)
    distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
    order = buy_from_shop(merchant, seller.user, sku, seller)
    assert agency_line(order) == (D("120.00"), 1, D("120.00"), seller.pk, D("60.00"))
    assert order.distributor_id == seller.pk


def snapshot(order):
    return (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id)


def test_self_purchase_on_makes_the_buyer_level_1(merchant, chain, sku):
    programme(merchant, self_purchase_commission=True)
    root, second, third, fourth = chain
    bind(merchant=merchant, customer=fourth.user, distributor=root)  # ignored: the buyer earns
    order = place(merchant=merchant, customer=fourth.user, lines=[(sku, 1)])
    assert snapshot(order) == (fourth.pk, third.pk, second.pk)
    order = place(merchant=merchant, customer=second.user, lines=[(sku, 1)])
    assert snapshot(order) == (second.pk, root.pk, None)


def test_self_purchase_off_keeps_the_chain_below_the_buyer(merchant, chain, sku):
    programme(merchant, self_purchase_commission=False)
    root, second, third, fourth = chain
    order = place(merchant=merchant, customer=fourth.user, lines=[(sku, 1)])
    assert snapshot(order) == (None, None, None)
    bind(merchant=merchant, customer=fourth.user, distributor=root)
    order = place(merchant=merchant, customer=fourth.user, lines=[(sku, 1)])
    assert snapshot(order) == (root.pk, None, None)


def test_self_purchase_for_a_consumer_is_the_binding_chain(merchant, chain, sku, customer):
    programme(merchant, self_purchase_commission=True)
    _root, second, third, fourth = chain
    bind(merchant=merchant, customer=customer, distributor=fourth)
    order = place(merchant=merchant, customer=customer, lines=[(sku, 1)])
    assert snapshot(order) == (fourth.pk, third.pk, second.pk)


def test_self_purchase_for_a_suspended_distributor_falls_back(merchant, chain, sku):
    programme(merchant, self_purchase_commission=True)
    root, second, third, fourth = chain
    Distributor.objects.filter(pk=fourth.pk).update(status=Distributor.Status.SUSPENDED)
    bind(merchant=merchant, customer=fourth.user, distributor=root)
    order = place(merchant=merchant, customer=fourth.user, lines=[(sku, 1)])
    assert snapshot(order) == (root.pk, None, None)


def test_self_purchase_of_another_stores_distributor_is_not_theirs(merchant, other_merchant, sku):
    programme(merchant, self_purchase_commission=True)
    elsewhere = distributor_join(merchant=other_merchant, user=UserFactory())
    order = place(merchant=merchant, customer=elsewhere.user, lines=[(sku, 1)])
    assert snapshot(order) == (None, None, None)
