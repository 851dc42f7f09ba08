"""Merchants pick supplied goods at their own prices, never below the floors; one stock pool."""

from decimal import Decimal

import pytest
from django.core import mail

from apps.commissions.services import commission_plan_update
from apps.core.errors import Conflict, DomainError, NotFound
from apps.distributors.agency import distributor_price_set, tier_price_create
from apps.distributors.models import DistributorPrice, ProgrammeSettings, TierSkuPrice
from apps.distributors.services import distributor_join
from apps.dropship.floors import money_floor
from apps.orders.models import Order, OrderLine
from apps.orders.services import cart_add_item, order_cancel, order_place_from_cart
from apps.products.models import Sku
from apps.products.services import sku_adjust_stock, sku_update
from apps.suppliers.models import SupplyProduct, SupplySku
from apps.suppliers.services import supply_product_remove, supply_sku_save
from tests.factories import MerchantFactory, SkuFactory, UserFactory
from tests.services.flows import RECIPIENT, place

from .conftest import make_supplier, make_supply_product, pick

pytestmark = pytest.mark.django_db


def test_the_money_floor_leaves_the_store_at_least_the_supply_price():
    # 30 % commission cap + 1 % platform fee leave 69 %: 60.00 / 0.69 = 86.956… → 86.96
    floor = money_floor(
        supply_price=Decimal("60.00"), cap_percent=Decimal("30"), fee_percent=Decimal("1")
    )

    assert floor == Decimal("86.96")
    kept = floor - (floor * Decimal("0.31")).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert kept >= Decimal("60.00")
    assert Decimal("86.95") * Decimal("0.69") < Decimal("60.00")
    with pytest.raises(DomainError):
        money_floor(supply_price=Decimal("1"), cap_percent=Decimal("99"), fee_percent=Decimal("1"))


def test_a_pick_appears_in_the_store_at_the_merchants_price_selling_the_suppliers_stock(
    merchant, pool
):
    sku = pick(merchant, pool, price="99.00")

    assert (sku.merchant, sku.price, sku.stock, sku.supply_sku) == (
        merchant,
        Decimal("99.00"),
        0,
        pool,
    )
    assert sku.supply_floor == Decimal("86.96")  # the money floor is above the 80.00 minimum
    assert sku.available_stock == 50
    assert sku.product.supply_product == pool.product
    assert sku.product.name == pool.product.name
    with pytest.raises(Conflict):
        pick(merchant, pool)


@pytest.mark.parametrize(
    ("price", "code"),
    [("79.99", "price_below_supply_floor"), ("86.95", "price_below_supply_floor")],
    ids=["below-supplier-minimum", "below-money-floor"],
)
def test_a_pick_below_a_floor_is_refused(merchant, pool, price, code):
    with pytest.raises(DomainError) as refused:
        pick(merchant, pool, price=price)

    assert refused.value.code == code
    assert "¥86.96" in refused.value.message
    assert not Sku.objects.filter(merchant=merchant).exists()


def test_the_minimum_retail_price_wins_when_it_is_higher(merchant, supplier):
    pool = make_supply_product(
        supplier, supply_price="10.00", min_retail="50.00", suggested="60.00"
    )

    with pytest.raises(DomainError):
        pick(merchant, pool, price="49.99")
    assert pick(merchant, pool, price="50.00").supply_floor == Decimal("50.00")


def test_a_store_cannot_price_its_pick_below_the_floor_later_nor_count_its_stock(merchant, pool):
    sku = pick(merchant, pool)

    with pytest.raises(DomainError) as refused:
        sku_update(merchant=merchant, sku_id=sku.pk, price="86.00")
    assert refused.value.code == "price_below_supply_floor"
    with pytest.raises(DomainError) as stock:
        sku_adjust_stock(merchant=merchant, sku_id=sku.pk, delta=10)
    assert stock.value.code == "supplied_stock"
    assert sku_update(merchant=merchant, sku_id=sku.pk, price="90.00").price == Decimal("90.00")


def test_unknown_or_delisted_products_act_as_absent(merchant, supplier, pool):
    with pytest.raises(NotFound):
        pick(merchant, pool.__class__(pk=999_999, product_id=999_999))
    SupplyProduct.objects.filter(pk=pool.product_id).update(is_listed=False)
    with pytest.raises(NotFound):
        pick(merchant, pool)


def test_a_raised_supply_price_hides_the_pick_and_tells_the_merchant_until_it_is_repriced(
    pool, django_capture_on_commit_callbacks
):
    merchant = MerchantFactory(contact_email="boss@store.example")
    sku = pick(merchant, pool, price="99.00")
    pool.supply_price = Decimal("75.00")  # money floor now 75 / 0.69 = 108.70

    with django_capture_on_commit_callbacks(execute=True):
        supply_sku_save(sku=pool, changed=["supply_price"])

    sku.refresh_from_db()
    assert (sku.is_active, sku.supply_hold, sku.supply_floor) == (False, True, Decimal("108.70"))
    assert [message.to for message in mail.outbox] == [["boss@store.example"]]
    assert "108.70" in mail.outbox[0].body
    with pytest.raises(DomainError):
        place(merchant=merchant, customer=UserFactory(), lines=[(sku, 1)])
    with pytest.raises(DomainError):
        sku_update(merchant=merchant, sku_id=sku.pk, is_active=True)

    repriced = sku_update(merchant=merchant, sku_id=sku.pk, price="109.00")

    assert (repriced.is_active, repriced.supply_hold) == (True, False)
    order = place(merchant=merchant, customer=UserFactory(), lines=[(repriced, 1)])
    line = order.lines.get()
    assert (line.unit_price, line.supply_unit_price, line.supplier_id) == (
        Decimal("109.00"),
        Decimal("75.00"),
        pool.supplier_id,
    )


def test_even_a_stale_price_that_slipped_past_the_hold_is_refused_at_placement(merchant, pool):
    sku = pick(merchant, pool)
    # the floor raised behind the services' back: the reservation itself still refuses
    Sku.objects.filter(pk=sku.pk).update(supply_floor=Decimal("120.00"))

    with pytest.raises(DomainError) as refused:
        place(merchant=merchant, customer=UserFactory(), lines=[(sku, 1)])

    assert refused.value.code == "sku_inactive"
    assert SupplySku.objects.get(pk=pool.pk).stock == 50


def test_the_platform_taking_a_product_off_the_catalogue_stops_every_store(pool):
    stores = [MerchantFactory(), MerchantFactory()]
    skus = [pick(store, pool) for store in stores]

    supply_product_remove(product_id=pool.product_id, reason="Counterfeit reports")

    assert [Sku.objects.get(pk=sku.pk).is_active for sku in skus] == [False, False]
    with pytest.raises(DomainError):
        place(merchant=stores[0], customer=UserFactory(), lines=[(skus[0], 1)])


def test_two_stores_sell_one_pool_and_a_cancel_gives_the_unit_back_to_it(supplier):
    pool = make_supply_product(supplier, stock=3)
    first, second = MerchantFactory(), MerchantFactory()
    first_sku, second_sku = pick(first, pool, "99.00"), pick(second, pool, "120.00")

    order = place(merchant=first, customer=UserFactory(), lines=[(first_sku, 2)])
    place(merchant=second, customer=UserFactory(), lines=[(second_sku, 1)])

    assert SupplySku.objects.get(pk=pool.pk).stock == 0
    with pytest.raises(Conflict) as sold_out:
        place(merchant=second, customer=UserFactory(), lines=[(second_sku, 1)])
    assert sold_out.value.code == "out_of_stock"
    assert order_cancel(order=order)
    assert SupplySku.objects.get(pk=pool.pk).stock == 2
    assert Sku.objects.get(pk=first_sku.pk).stock == 0


def test_a_supplier_stock_change_reaches_every_store_at_once(merchant, pool):
    sku = pick(merchant, pool)
    SupplySku.objects.filter(pk=pool.pk).update(stock=7)

    assert Sku.objects.select_related("supply_sku").get(pk=sku.pk).available_stock == 7


def test_an_order_of_an_own_and_a_supplied_line_snapshots_the_supplied_one(merchant, pool):
    own = SkuFactory(product__merchant=merchant, price=Decimal("30.00"), stock=5)
    supplied = pick(merchant, pool)

    order = place(merchant=merchant, customer=UserFactory(), lines=[(own, 1), (supplied, 2)])

    lines = {line.sku_id: line for line in order.lines.all()}
    assert lines[own.pk].supplier_id is None
    assert lines[supplied.pk].supply_amount == Decimal("120.00")
    assert order.payable_amount == Decimal("228.00")
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert Sku.objects.get(pk=own.pk).stock == 4
    assert SupplySku.objects.get(pk=pool.pk).stock == 48


def test_another_suppliers_skus_are_unknown_to_a_pick(merchant, pool):
    other = make_supply_product(make_supplier("fruit-farm"))

    with pytest.raises(NotFound):
        from apps.dropship.services import supply_pick

        supply_pick(merchant=merchant, supply_product_id=pool.product_id, prices={other.pk: "99"})


def test_raising_the_commission_cap_hides_picks_the_new_take_makes_unsafe_and_lowering_it_back_restores_them(  # noqa: E501
    pool, django_capture_on_commit_callbacks
):
    merchant = MerchantFactory(contact_email="boss@store.example")
    sku = pick(merchant, pool, price="99.00")  # floor 86.96 under a 30 % cap + 1 % fee

    with django_capture_on_commit_callbacks(execute=True):
        commission_plan_update(merchant=merchant, max_total_percent="40.00")

    sku.refresh_from_db()
    # 60.00 / (1 − 0.41) = 101.69… → 101.70: the store's 99.00 could now pay out more than it keeps
    assert (sku.is_active, sku.supply_hold, sku.supply_floor) == (False, True, Decimal("101.70"))
    assert [message.to for message in mail.outbox] == [["boss@store.example"]]
    assert "101.70" in mail.outbox[0].body
    with pytest.raises(DomainError):
        place(merchant=merchant, customer=UserFactory(), lines=[(sku, 1)])

    commission_plan_update(merchant=merchant, max_total_percent="30.00")

    sku.refresh_from_db()
    assert (sku.is_active, sku.supply_hold, sku.supply_floor) == (True, False, Decimal("86.96"))


def test_a_cap_change_rechecks_only_that_merchants_picks(merchant, pool):
    other = MerchantFactory()
    mine, theirs = pick(merchant, pool), pick(other, pool)

    commission_plan_update(merchant=merchant, max_total_percent="40.00")

    assert Sku.objects.get(pk=mine.pk).supply_hold is True
    assert Sku.objects.get(pk=theirs.pk).supply_hold is False
    # changing something else of the plan changes no floor
    commission_plan_update(merchant=other, freeze_days=3)
    assert Sku.objects.get(pk=theirs.pk).supply_floor == Decimal("86.96")


def test_the_operator_raising_the_platform_fee_rechecks_the_merchants_picks(
    merchant, pool, admin_client
):
    sku = pick(merchant, pool, price="99.00")
    data = {
        "name": merchant.name,
        "status": merchant.status,
        "platform_fee_percent": "12.00",  # 30 % + 12 % leave 58 %: 60 / 0.58 = 103.45
        "contact_email": "",
        "description": "",
    }

    response = admin_client.post(f"/admin/merchants/merchant/{merchant.pk}/change/", data)

    assert response.status_code == 302, response.content[:500]
    sku.refresh_from_db()
    assert (sku.is_active, sku.supply_hold, sku.supply_floor) == (False, True, Decimal("103.45"))


def test_supplied_goods_take_no_agency_purchase_price(merchant, pool):
    ProgrammeSettings.objects.update_or_create(merchant=merchant, defaults={"agency_enabled": True})
    sku = pick(merchant, pool, price="99.00")

    with pytest.raises(DomainError) as refused:
        tier_price_create(merchant=merchant, tier_id=None, sku_id=sku.pk, purchase_price="90.00")

    assert refused.value.code == "supplied_not_for_agency"
    assert not TierSkuPrice.objects.filter(sku=sku).exists()


def test_a_crafted_purchase_price_on_supplied_goods_never_makes_an_agency_line(merchant, pool):
    # a row written behind the services' back (or left from before the rule): a distributor's
    # resale price above the store price would let percent commission grow past the supply floor
    ProgrammeSettings.objects.update_or_create(merchant=merchant, defaults={"agency_enabled": True})
    sku = pick(merchant, pool, price="99.00")
    TierSkuPrice.objects.create(merchant=merchant, sku=sku, purchase_price=Decimal("90.00"))
    seller = distributor_join(merchant=merchant, user=UserFactory())
    DistributorPrice.objects.create(
        merchant=merchant, distributor=seller, sku=sku, price=Decimal("300.00")
    )
    customer = UserFactory()
    cart_add_item(
        merchant=merchant,
        customer=customer,
        sku_id=sku.pk,
        quantity=1,
        shop_code=seller.invite_code,
    )

    order = order_place_from_cart(merchant=merchant, customer=customer, recipient=RECIPIENT)

    line = OrderLine.objects.get(order=order)
    assert (line.unit_price, line.agency_distributor_id, line.agency_unit_cost) == (
        Decimal("99.00"),
        None,
        None,
    )
    with pytest.raises(DomainError):
        distributor_price_set(distributor=seller, sku_id=sku.pk, price="120.00")
