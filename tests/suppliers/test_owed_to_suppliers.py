"""Owed to suppliers, in the store's back office: per supplier what the store's sales owe it
(frozen, releasable, released, taken back), and its orders below; another store's staff see
none of it, a supplier's staff are refused, the operator sees every store."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.dropship.models import SupplierPayable, SupplyShare
from apps.dropship.supply_money import supply_share_release
from tests.factories import MerchantFactory, MerchantStaffFactory, UserFactory
from tests.services.flows import pay, place

from .conftest import make_supplier, make_supplier_staff, make_supply_product, pick
from .test_supply_money import _refund_deliveries, complete, refund  # noqa: F401

D = Decimal
pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:dropship_supplierpayable_changelist")


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def paid(merchant, lines):
    customer = UserFactory()
    order = place(merchant=merchant, customer=customer, lines=lines)
    pay(merchant=merchant, customer=customer, order=order)
    return order


@pytest.fixture
def world(merchant, django_capture_on_commit_callbacks):
    """Store A: tea (60.00 supply) owed frozen on one order, releasable on a second, released
    after a refund the supplier bore on a third; fruit (20.00) frozen. Store B: tea frozen."""
    tea, fruit = make_supplier("tea-farm"), make_supplier("fruit-farm")
    tea_pool = make_supply_product(tea)
    fruit_pool = make_supply_product(fruit, supply_price="20.00", min_retail="30.00")
    tea_a, fruit_a = pick(merchant, tea_pool), pick(merchant, fruit_pool)
    frozen = paid(merchant, [(tea_a, 2), (fruit_a, 1)])
    releasable = complete(merchant, paid(merchant, [(tea_a, 1)]))
    SupplyShare.objects.filter(order=releasable).update(
        release_at=timezone.now() - timedelta(hours=1)
    )
    released = paid(merchant, [(tea_a, 2)])
    refund(
        released,
        released.lines.get(),
        D("99.00"),
        capture=django_capture_on_commit_callbacks,
    )
    released = complete(merchant, released)
    share = SupplyShare.objects.get(order=released)
    assert supply_share_release(share_id=share.pk, now=share.release_at) is True

    other = MerchantFactory()
    other_order = paid(other, [(pick(other, tea_pool), 1)])
    return {
        "tea": tea,
        "fruit": fruit,
        "orders": (frozen, releasable, released),
        "other": other,
        "other_order": other_order,
        "staff_a": logged_in(MerchantStaffFactory(merchant=merchant).user),
        "staff_b": logged_in(MerchantStaffFactory(merchant=other).user),
    }


def summary(page):
    return [
        (
            row.supplier,
            row.orders,
            row.owed.frozen,
            row.owed.releasable,
            row.owed.released,
            row.owed.reversed,
            row.owed.total,
        )
        for row in page.context["owed_rows"]
    ]


def test_the_store_sees_what_it_owes_each_supplier_by_where_the_money_stands(
    world, django_assert_num_queries
):
    with django_assert_num_queries(14):
        page = world["staff_a"].get(CHANGELIST)

    assert page.status_code == 200
    assert summary(page) == [
        ("fruit-farm Co.", 1, D("20.00"), D("0"), D("0"), D("0"), D("20.00")),
        ("tea-farm Co.", 3, D("120.00"), D("60.00"), D("60.00"), D("60.00"), D("240.00")),
    ]
    total = page.context["owed_total"]
    assert (total.frozen, total.releasable, total.released, total.reversed, total.total) == (
        D("140.00"),
        D("60.00"),
        D("60.00"),
        D("60.00"),
        D("260.00"),
    )
    html = page.content.decode()
    assert f'href="?supplier__id__exact={world["tea"].pk}"' in html
    assert "¥240.00" in html and "¥260.00" in html


def test_a_supplier_drills_down_to_its_orders_each_linked(world):
    frozen, releasable, released = world["orders"]

    page = world["staff_a"].get(CHANGELIST, {"supplier__id__exact": world["tea"].pk})

    assert page.status_code == 200
    rows = {share.order_id: share for share in page.context["cl"].result_list}
    assert set(rows) == {frozen.pk, releasable.pk, released.pk}
    html = page.content.decode()
    for order in (frozen, releasable, released):
        assert reverse("admin:orders_order_change", args=[order.pk]) in html
        assert order.number in html
    assert [
        (rows[o.pk].amount, rows[o.pk].reversed_amount) for o in (frozen, releasable, released)
    ] == [(D("120.00"), D("0.00")), (D("60.00"), D("0.00")), (D("120.00"), D("60.00"))]
    assert "Releasable" in html


def test_another_stores_staff_see_only_their_own_and_none_of_this_stores_rows(world):
    client = world["staff_b"]
    a_share = SupplyShare.objects.filter(order=world["orders"][0]).order_by("id").first()

    page = client.get(CHANGELIST)

    assert summary(page) == [
        ("tea-farm Co.", 1, D("60.00"), D("0"), D("0"), D("0"), D("60.00")),
    ]
    assert {share.order_id for share in page.context["cl"].result_list} == {world["other_order"].pk}
    # A supplier this store never sold: its own rows at most, never the other store's.
    fruit = client.get(CHANGELIST, {"supplier__id__exact": world["fruit"].pk})
    assert fruit.status_code == 200
    assert {share.merchant_id for share in fruit.context["cl"].result_list} <= {world["other"].pk}
    assert summary(fruit) == summary(page)
    assert world["orders"][0].number not in fruit.content.decode()
    change = reverse("admin:dropship_supplierpayable_change", args=[a_share.pk])
    assert client.get(change).status_code == 404
    assert world["staff_a"].get(change).status_code == 200


def test_supplier_staff_are_refused_and_the_operator_sees_every_store(world):
    supplier_client = logged_in(make_supplier_staff(world["tea"]))
    assert supplier_client.get(CHANGELIST).status_code == 403

    operator = logged_in(UserFactory(is_staff=True, is_superuser=True))
    page = operator.get(CHANGELIST)

    assert page.status_code == 200
    store_a = world["orders"][0].merchant.name
    assert sorted(
        (row.store, row.supplier, row.owed.total) for row in page.context["owed_rows"]
    ) == sorted(
        [
            (world["other"].name, "tea-farm Co.", D("60.00")),
            (store_a, "fruit-farm Co.", D("20.00")),
            (store_a, "tea-farm Co.", D("240.00")),
        ]
    )


def test_a_store_that_sold_no_supplied_goods_owes_nothing(merchant):
    page = logged_in(MerchantStaffFactory(merchant=merchant).user).get(CHANGELIST)

    assert page.status_code == 200
    assert page.context["owed_rows"] == []
    assert SupplierPayable.objects.count() == 0
