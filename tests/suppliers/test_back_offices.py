"""The supplier's back office shows its own catalogue and parcels only; merchants browse the
catalogue and pick from it; each side's ids are absent to the other (404) or refused (403)."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.dropship.models import Shipment, SupplierShipment
from apps.products.models import Sku
from apps.suppliers.models import SupplyProduct, SupplySku
from tests.factories import MerchantStaffFactory, UserFactory
from tests.services.flows import pay, place

from .conftest import make_supplier, make_supplier_staff, make_supply_product, pick

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(merchant):
    tea, fruit = make_supplier("tea-farm"), make_supplier("fruit-farm")
    tea_pool, fruit_pool = make_supply_product(tea), make_supply_product(fruit)
    customer = UserFactory()
    order = place(
        merchant=merchant,
        customer=customer,
        lines=[(pick(merchant, tea_pool), 1), (pick(merchant, fruit_pool), 1)],
    )
    pay(merchant=merchant, customer=customer, order=order)
    return {
        "tea": tea,
        "fruit": fruit,
        "tea_pool": tea_pool,
        "fruit_pool": fruit_pool,
        "tea_staff": logged_in(make_supplier_staff(tea)),
        "merchant_staff": logged_in(MerchantStaffFactory(merchant=merchant).user),
        "tea_parcel": Shipment.objects.get(order=order, supplier=tea),
        "fruit_parcel": Shipment.objects.get(order=order, supplier=fruit),
        "order": order,
    }


@pytest.mark.parametrize("model", [SupplyProduct, SupplySku, SupplierShipment])
def test_supplier_staff_see_only_their_own_rows(world, model):
    client = world["tea_staff"]
    own = {
        SupplyProduct: world["tea_pool"].product_id,
        SupplySku: world["tea_pool"].pk,
        SupplierShipment: world["tea_parcel"].pk,
    }[model]
    other = {
        SupplyProduct: world["fruit_pool"].product_id,
        SupplySku: world["fruit_pool"].pk,
        SupplierShipment: world["fruit_parcel"].pk,
    }[model]

    listing = client.get(admin_url(model, "changelist"))

    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [own]
    assert client.get(admin_url(model, "change", own)).status_code == 200
    assert client.get(admin_url(model, "change", other)).status_code == 404
    assert client.post(admin_url(model, "change", other), {}).status_code == 404
    assert client.get(admin_url(model, "delete", other)).status_code == 404
    assert client.get(admin_url(model, "history", other)).status_code == 404


def test_a_supplier_sees_the_recipient_and_its_own_lines_only(world):
    page = world["tea_staff"].get(admin_url(SupplierShipment, "change", world["tea_parcel"].pk))
    text = page.content.decode()

    assert "Li Lei" in text and "13800000000" in text and "1 Nanjing Road" in text
    assert "tea-farm oolong" in text
    assert "fruit-farm oolong" not in text
    assert world["order"].merchant.name not in text
    assert str(world["order"].payable_amount) not in text


def test_a_supplier_ships_its_parcel_and_not_anothers(world):
    client = world["tea_staff"]
    other = client.post(
        admin_url(SupplierShipment, "ship", world["fruit_parcel"].pk),
        {"carrier": "SF", "tracking_number": "X"},
    )
    own = client.post(
        admin_url(SupplierShipment, "ship", world["tea_parcel"].pk),
        {"carrier": "SF Express", "tracking_number": "SF123"},
    )

    assert other.status_code == 404
    assert own.status_code == 302
    parcels = {s.supplier_id: s for s in Shipment.objects.filter(order=world["order"])}
    assert parcels[world["tea"].pk].tracking_number == "SF123"
    assert parcels[world["fruit"].pk].status == "pending"


def test_supplier_staff_are_refused_every_merchant_admin(world):
    client = world["tea_staff"]
    for view in ("changelist", "add"):
        assert client.get(admin_url(Sku, view)).status_code == 403
    assert client.get(admin_url(Shipment, "changelist")).status_code == 403
    assert client.get(admin_url(Shipment, "change", world["tea_parcel"].pk)).status_code in (
        403,
        404,
    )
    index = client.get(reverse("admin:index"))
    listed = {
        (app["app_label"], m["object_name"])
        for app in index.context["app_list"]
        for m in app["models"]
    }
    assert listed == {
        ("suppliers", "SupplyProduct"),
        ("suppliers", "SupplySku"),
        ("dropship", "SupplierShipment"),
    }


def test_merchant_staff_are_refused_the_supplier_admins(world):
    client = world["merchant_staff"]
    for model in (SupplyProduct, SupplySku, SupplierShipment):
        assert client.get(admin_url(model, "changelist")).status_code == 403
    assert client.get(
        admin_url(SupplyProduct, "change", world["tea_pool"].product_id)
    ).status_code in (403, 404)


def test_a_merchant_browses_the_catalogue_and_picks_at_its_own_price(world, merchant):
    pool = make_supply_product(
        make_supplier("honey-farm"), supply_price="20.00", min_retail="25.00"
    )
    client = world["merchant_staff"]
    catalogue = client.get(reverse("admin:dropship_catalogueproduct_changelist"))
    assert catalogue.status_code == 200
    assert pool.product_id in {row.pk for row in catalogue.context["cl"].result_list}
    pick_url = reverse("admin:dropship_catalogueproduct_pick", args=[pool.product_id])
    form = client.get(pick_url)
    assert "at least ¥28.99" in form.content.decode()  # 20 / 0.69 = 28.985… → 28.99

    too_low = client.post(pick_url, {f"price-{pool.pk}": "28.98"})
    picked = client.post(pick_url, {f"price-{pool.pk}": "35.00"})

    assert too_low.status_code == 400
    assert "¥28.99" in too_low.content.decode()
    assert picked.status_code == 302
    sku = Sku.objects.get(merchant=merchant, supply_sku=pool)
    assert (sku.price, sku.supply_floor) == (Decimal("35.00"), Decimal("28.99"))


def test_supplier_staff_cannot_browse_or_pick_from_the_catalogue(world):
    client = world["tea_staff"]
    assert client.get(reverse("admin:dropship_catalogueproduct_changelist")).status_code == 403
    pick_url = reverse(
        "admin:dropship_catalogueproduct_pick", args=[world["fruit_pool"].product_id]
    )
    assert client.post(pick_url, {}).status_code == 403


def test_the_store_reads_its_order_margins_and_a_supplier_cannot(world):
    url = reverse("admin:dropship_shipment_margins")

    page = world["merchant_staff"].get(url)

    assert page.status_code == 200
    [row] = page.context["margins"]
    assert (row.order_id, row.supply_cost) == (world["order"].pk, Decimal("120.00"))
    assert world["tea_staff"].get(url).status_code == 403


def test_the_stores_parcel_page_masks_the_phone_for_staff_without_the_permission(world, merchant):
    from apps.merchants.models import MerchantStaff

    staff = logged_in(MerchantStaffFactory(merchant=merchant, role=MerchantStaff.Role.STAFF).user)
    url = admin_url(Shipment, "change", world["tea_parcel"].pk)

    masked = staff.get(url).content.decode()
    owners = world["merchant_staff"].get(url).content.decode()

    assert "Li Lei · 138****0000 · 1 Nanjing Road" in masked and "13800000000" not in masked
    assert "13800000000" in owners
