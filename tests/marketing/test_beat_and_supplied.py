"""The marketing and member beat jobs, and flash sales / limited-time prices on supplied SKUs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.errors import DomainError
from apps.marketing import tasks as marketing_tasks
from apps.marketing.admin import FlashSaleForm, PromotionPriceForm
from apps.marketing.models import FlashSale
from apps.marketing.services import flash_sale_create, promotion_price_check
from apps.members import tasks as member_tasks
from apps.members.models import Member, PointsEntry
from apps.products.models import Sku
from tests.factories import SkuFactory
from tests.suppliers.conftest import make_supplier, make_supply_product, pick

from . import factories as f

D = Decimal


def test_the_beat_schedule_runs_flash_sale_closing_and_points_expiry():
    by_task = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert by_task["apps.marketing.tasks.flash_sales_close"] == 60.0
    assert by_task["apps.members.tasks.points_expire"] == 3600.0
    assert marketing_tasks.flash_sales_close.name == "apps.marketing.tasks.flash_sales_close"
    assert member_tasks.points_expire.name == "apps.members.tasks.points_expire"


def test_closing_returns_the_unsold_pool_to_the_sku_once(merchant):
    sku = SkuFactory(product__merchant=merchant, stock=20)
    sale = f.flash(merchant, sku, pool=8)
    FlashSale.objects.filter(pk=sale.pk).update(
        remaining=5, ends_at=timezone.now() - timedelta(seconds=1)
    )
    sku.refresh_from_db()
    assert sku.stock == 12

    assert marketing_tasks.flash_sales_close.apply().get() == 1
    assert marketing_tasks.flash_sales_close.apply().get() == 0

    sku.refresh_from_db()
    sale.refresh_from_db()
    assert (sku.stock, sale.remaining) == (17, 0)
    assert sale.returned_at is not None


def test_closing_leaves_an_open_sale_alone(merchant):
    sku = SkuFactory(product__merchant=merchant, stock=20)
    f.flash(merchant, sku, pool=8)
    assert marketing_tasks.flash_sales_close.apply().get() == 0
    sku.refresh_from_db()
    assert sku.stock == 12


def test_points_expiry_takes_what_is_left_of_an_expired_lot_once(merchant, customer):
    member = f.member(merchant, customer, points=300)
    PointsEntry.objects.filter(member=member).update(expires_at=timezone.now() - timedelta(days=1))

    assert member_tasks.points_expire.apply().get() == 300
    assert member_tasks.points_expire.apply().get() == 0

    member = Member.objects.get(pk=member.pk)
    assert member.points_balance == 0
    assert list(
        PointsEntry.objects.filter(member=member).order_by("id").values_list("kind", "points")
    ) == [("adjusted", 300), ("expired", -300)]


def _supplied_sku(merchant) -> Sku:
    return pick(merchant, make_supply_product(make_supplier()), price="99.00")


def test_a_flash_sale_on_a_supplied_sku_is_refused_and_takes_nothing(merchant):
    sku = _supplied_sku(merchant)
    with pytest.raises(DomainError) as refused:
        f.flash(merchant, sku, price="90.00", pool=1)
    assert refused.value.code == "supplied_sku"
    assert FlashSale.objects.count() == 0


def test_a_flash_price_below_a_supplied_skus_floor_is_refused(merchant):
    sku = SkuFactory(product__merchant=merchant, price=D("50.00"), stock=5)
    Sku.objects.filter(pk=sku.pk).update(min_resale_price=D("40.00"))
    sku.refresh_from_db()
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        flash_sale_create(
            merchant=merchant,
            sku=sku,
            name="x",
            price=D("39.99"),
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            pool=1,
        )
    assert refused.value.code == "below_floor"


def test_a_limited_time_price_below_a_supplied_skus_floor_is_refused(merchant):
    sku = _supplied_sku(merchant)
    floor = sku.supply_floor  # the money floor: above the supplier's ¥80.00 minimum retail
    assert floor == D("86.96")
    with pytest.raises(DomainError) as refused:
        promotion_price_check(sku=sku, price=floor - D("0.01"))
    assert refused.value.code == "below_floor"
    promotion_price_check(sku=sku, price=floor)


def test_the_admin_forms_show_the_refusals_on_their_fields(merchant):
    sku = _supplied_sku(merchant)
    now = timezone.now()
    form = FlashSaleForm(
        data={
            "name": "秒杀",
            "sku": sku.pk,
            "price": "90.00",
            "starts_at": now,
            "ends_at": now + timedelta(hours=1),
            "pool": 1,
            "per_person_limit": 1,
        }
    )
    assert not form.is_valid()
    assert form.errors["sku"] == [
        "A supplied item cannot have a flash sale: its stock is the supplier's."
    ]

    price_form = PromotionPriceForm(data={"sku": sku.pk, "price": "10.00"})
    assert not price_form.is_valid()
    assert price_form.errors["price"] == [
        "The price is below the item's lowest allowed price (¥86.96)."
    ]


def test_the_admin_refuses_a_flash_sale_on_a_supplied_sku_as_a_form_error(
    merchant, staff_user, client
):
    sku = _supplied_sku(merchant)
    client.force_login(staff_user)
    response = client.post(
        "/admin/marketing/flashsale/add/",
        {
            "name": "秒杀",
            "sku": sku.pk,
            "price": "90.00",
            "starts_at_0": "2030-01-01",
            "starts_at_1": "10:00:00",
            "ends_at_0": "2030-01-02",
            "ends_at_1": "10:00:00",
            "pool": "1",
            "per_person_limit": "1",
        },
    )
    assert response.status_code == 200
    assert "its stock is the supplier" in response.content.decode()
    assert FlashSale.objects.count() == 0


def test_a_member_price_never_takes_a_supplied_sku_below_the_suppliers_floor(
    merchant, customer, recipient
):
    from apps.orders.selectors import cart_summary
    from apps.orders.services import Discounts, cart_add_item, order_place

    sku = _supplied_sku(merchant)  # ¥99.00, the money floor ¥86.96
    f.member(merchant, customer, discount="20")  # would be ¥79.20
    cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)
    summary = cart_summary(merchant=merchant, customer=customer)
    assert summary.items[0].priced.unit_price == D("86.96")

    order = order_place(
        merchant=merchant,
        customer=customer,
        lines=[(sku.pk, 1)],
        recipient=recipient,
        discounts=Discounts(coupon=None),
        expected_total=summary.payable,
    )
    line = order.lines.get()
    assert (line.paid_amount, order.payable_amount) == (D("86.96"), D("86.96"))
