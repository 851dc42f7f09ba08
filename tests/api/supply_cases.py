"""Isolation cases of the supplier and drop-shipping API routes, for ``test_isolation.CASES``.

Two suppliers (each with a product picked by both stores) and a paid order of each store holding
both suppliers' goods: every supplier route lists the caller's rows only and answers 404 for the
other supplier's ids; merchant routes see the public catalogue and their own parcels only.
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.accounts.models import User
from apps.dropship.models import Shipment
from apps.products.models import Sku
from apps.suppliers.models import Supplier, SupplierApplication, SupplySku
from tests.services.flows import pay, place
from tests.suppliers.conftest import (
    licence_png,
    make_supplier,
    make_supplier_staff,
    make_supply_product,
    pick,
)

from .conftest import World, api_url, client_for


@dataclass
class Supply:
    tea: Supplier
    fruit: Supplier
    tea_pool: SupplySku
    fruit_pool: SupplySku
    tea_staff: object
    parcels: dict[tuple[int, int | None], Shipment]  # (merchant id, supplier id) → parcel


def supply_world(world: World) -> Supply:
    tea, fruit = make_supplier("tea-farm"), make_supplier("fruit-farm")
    tea_pool, fruit_pool = make_supply_product(tea), make_supply_product(fruit)
    parcels = {}
    for store in (world.a, world.b):
        lines = [(pick(store.merchant, tea_pool), 1), (pick(store.merchant, fruit_pool), 1)]
        lines.append((store.sku, 1))
        order = place(merchant=store.merchant, customer=store.customer, lines=lines)
        pay(merchant=store.merchant, customer=store.customer, order=order)
        for shipment in Shipment.objects.filter(order=order):
            parcels[(store.merchant.pk, shipment.supplier_id)] = shipment
    return Supply(tea, fruit, tea_pool, fruit_pool, make_supplier_staff(tea), parcels)


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return [row["id"] for row in rows]


def supplier_list(name: str, own: Callable[[Supply, World], list[int]]):  # type: ignore[no-untyped-def]
    def case(world: World) -> None:
        supply = supply_world(world)
        assert _ids(client_for(supply.tea_staff).get(api_url(name))) == own(supply, world)
        # merchant staff and customers are no supplier's staff
        assert client_for(world.a.staff).get(api_url(name)).status_code == 403
        assert client_for(world.a.customer).get(api_url(name)).status_code == 403

    return case


def supplier_detail(name: str, other: Callable[[Supply, World], int], method: str = "get"):  # type: ignore[no-untyped-def]
    def case(world: World) -> None:
        supply = supply_world(world)
        before = world.snapshot(), list(SupplySku.objects.order_by("id").values())
        call = getattr(client_for(supply.tea_staff), method)
        response = call(api_url(name, pk=other(supply, world)), {"stock": 0}, format="json")
        assert response.status_code == 404, response.content
        assert (world.snapshot(), list(SupplySku.objects.order_by("id").values())) == before

    return case


def supplier_sku_patch_own(world: World) -> None:
    supply = supply_world(world)
    client = client_for(supply.tea_staff)
    refused = client.patch(
        api_url("supplier-sku-detail", pk=supply.fruit_pool.pk), {"stock": 0}, format="json"
    )
    assert refused.status_code == 404
    response = client.patch(
        api_url("supplier-sku-detail", pk=supply.tea_pool.pk),
        {"supply_price": "70.00", "stock": 9},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert SupplySku.objects.get(pk=supply.fruit_pool.pk).stock == 48  # two orders, one each
    # the new supply price (money floor 70 / 0.69 = 101.45) reaches both stores' picks at once
    held = Sku.objects.filter(supply_sku=supply.tea_pool).values_list("supply_floor", "is_active")
    assert [(str(floor), active) for floor, active in held] == [("101.45", False)] * 2
    bad = client.patch(
        api_url("supplier-sku-detail", pk=supply.tea_pool.pk),
        {"min_retail_price": "1.00"},
        format="json",
    )
    assert bad.status_code == 400


def supplier_shipment_ship(world: World) -> None:
    supply = supply_world(world)
    client = client_for(supply.tea_staff)
    other = supply.parcels[(world.a.merchant.pk, supply.fruit.pk)]
    own_goods = supply.parcels[(world.a.merchant.pk, None)]
    for parcel in (other, own_goods):
        response = client.post(
            api_url("supplier-shipment-ship", pk=parcel.pk),
            {"carrier": "SF", "tracking_number": "X1"},
            format="json",
        )
        assert response.status_code == 404
        assert Shipment.objects.get(pk=parcel.pk).status == "pending"
    mine = supply.parcels[(world.b.merchant.pk, supply.tea.pk)]
    shipped = client.post(
        api_url("supplier-shipment-ship", pk=mine.pk),
        {"carrier": "SF", "tracking_number": "SF9"},
        format="json",
    )
    assert shipped.status_code == 200
    body = shipped.json()
    assert set(body) == {
        "id",
        "order_number",
        "status",
        "recipient_name",
        "recipient_phone",
        "shipping_address",
        "lines",
        "carrier",
        "tracking_number",
        "shipped_at",
    }
    assert [line["product_name"] for line in body["lines"]] == ["tea-farm oolong"]


def merchant_catalogue_list(world: World) -> None:
    supply = supply_world(world)
    listed = _ids(client_for(world.a.staff).get(api_url("merchant-catalogue-list")))
    assert listed == [supply.tea_pool.product_id, supply.fruit_pool.product_id]
    assert client_for(supply.tea_staff).get(api_url("merchant-catalogue-list")).status_code == 403


def merchant_catalogue_detail(world: World) -> None:
    supply = supply_world(world)
    supply.fruit_pool.product.__class__.objects.filter(pk=supply.fruit_pool.product_id).update(
        is_listed=False
    )
    client = client_for(world.a.staff)
    assert (
        client.get(api_url("merchant-catalogue-detail", pk=supply.tea_pool.product_id)).status_code
        == 200
    )
    assert (
        client.get(
            api_url("merchant-catalogue-detail", pk=supply.fruit_pool.product_id)
        ).status_code
        == 404
    )


def merchant_catalogue_pick(world: World) -> None:
    pool = make_supply_product(
        make_supplier("honey-farm"), supply_price="20.00", min_retail="25.00"
    )
    client = client_for(world.a.staff)
    url = api_url("merchant-catalogue-pick", pk=pool.product_id)
    other = make_supply_product(make_supplier("nut-farm"))
    before = world.snapshot()
    unknown_sku = client.post(url, {"prices": {str(other.pk): "99.00"}}, format="json")
    too_low = client.post(url, {"prices": {str(pool.pk): "28.98"}}, format="json")
    assert (unknown_sku.status_code, too_low.status_code) == (404, 400)
    assert too_low.json()["code"] == "price_below_supply_floor"
    assert world.snapshot() == before
    picked = client.post(url, {"prices": {str(pool.pk): "35.00"}}, format="json")
    assert picked.status_code == 201, picked.content
    assert Sku.objects.get(supply_sku=pool).merchant == world.a.merchant
    again = client_for(world.b.staff).post(url, {"prices": {str(pool.pk): "30.00"}}, format="json")
    assert again.status_code == 201  # another store picks the same product for itself


def merchant_shipment_list(world: World) -> None:
    supply = supply_world(world)
    listed = _ids(client_for(world.a.staff).get(api_url("merchant-shipment-list")))
    assert sorted(listed) == sorted(
        parcel.pk
        for (merchant_id, _s), parcel in supply.parcels.items()
        if merchant_id == world.a.merchant.pk
    )


def merchant_shipment_detail(world: World) -> None:
    supply = supply_world(world)
    other = supply.parcels[(world.b.merchant.pk, None)]
    assert (
        client_for(world.a.staff).get(api_url("merchant-shipment-detail", pk=other.pk)).status_code
        == 404
    )


def merchant_shipment_ship(world: World) -> None:
    supply = supply_world(world)
    client = client_for(world.a.staff)
    body = {"carrier": "SF", "tracking_number": "1"}
    for parcel in (
        supply.parcels[(world.b.merchant.pk, None)],  # another store's own parcel
        supply.parcels[(world.a.merchant.pk, supply.tea.pk)],  # a supplier's parcel
    ):
        assert (
            client.post(
                api_url("merchant-shipment-ship", pk=parcel.pk), body, format="json"
            ).status_code
            == 404
        )
        assert Shipment.objects.get(pk=parcel.pk).status == "pending"
    own = supply.parcels[(world.a.merchant.pk, None)]
    assert (
        client.post(api_url("merchant-shipment-ship", pk=own.pk), body, format="json").status_code
        == 200
    )


def public_supplier_application(world: World) -> None:
    """Applying under an existing supplier's code is refused, and writes nothing."""
    supply = supply_world(world)
    before = (SupplierApplication.objects.count(), User.objects.count())
    response = client_for(None).post(
        api_url("supplier-application-create"),
        {
            "username": "copycat",
            "password": "a-long-enough-pass-42",
            "company_name": "Copycat Co.",
            "slug": supply.fruit.slug,
            "categories": "tea",
            "contact_name": "Wang",
            "contact_phone": "139",
            "contact_email": "wang@example.com",
            "licence": licence_png(),
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "slug_taken"
    assert (SupplierApplication.objects.count(), User.objects.count()) == before


def _fund(supplier: Supplier, merchant_id: int) -> None:
    """Make 60.00 of what the store owes ``supplier`` available (as a release would)."""
    from decimal import Decimal

    from django.db import transaction

    from apps.ledger.models import Journal, LedgerEntry
    from apps.ledger.posting import Leg, ledger_post

    account = LedgerEntry.Account
    with transaction.atomic():
        ledger_post(
            merchant_id=merchant_id,
            kind=Journal.Kind.ADJUSTMENT,
            key=f"test-fund:{supplier.pk}",
            legs=[
                Leg(account.SUPPLIER_FROZEN, Decimal("-60.00"), supplier_id=supplier.pk),
                Leg(account.SUPPLIER_AVAILABLE, Decimal("60.00"), supplier_id=supplier.pk),
            ],
        )


def supplier_balance_list(world: World) -> None:
    supply = supply_world(world)
    response = client_for(supply.tea_staff).get(api_url("supplier-balance-list"))
    assert response.status_code == 200, response.content
    assert sorted((row["store"], row["frozen"]) for row in response.json()) == sorted(
        [(world.a.merchant.pk, "60.00"), (world.b.merchant.pk, "60.00")]
    )
    assert client_for(world.a.staff).get(api_url("supplier-balance-list")).status_code == 403


def supplier_withdrawal_create(world: World) -> None:
    from apps.withdrawals.models import Withdrawal
    from tests.factories import MerchantFactory

    supply = supply_world(world)
    _fund(supply.tea, world.a.merchant.pk)
    client = client_for(supply.tea_staff)
    url = api_url("supplier-withdrawal-list")
    body = {"amount": "10.00", "account": "alipay:tea"}
    # a store that never sold its goods is absent, whatever its id
    assert (
        client.post(url, {**body, "store": MerchantFactory().pk}, format="json").status_code == 404
    )
    too_much = client.post(url, {**body, "store": world.b.merchant.pk}, format="json")
    assert too_much.status_code == 400  # only frozen there
    assert not Withdrawal.objects.filter(supplier__isnull=False).exists()
    made = client.post(url, {**body, "store": world.a.merchant.pk}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["store"], made.json()["amount"]) == (world.a.merchant.pk, "10.00")
    assert Withdrawal.objects.get(supplier__isnull=False).supplier_id == supply.tea.pk
    assert client_for(world.a.staff).post(url, body, format="json").status_code == 403


def _fruit_withdrawal(supply: Supply, world: World) -> int:
    from apps.withdrawals.services import supplier_withdrawal_request

    _fund(supply.fruit, world.a.merchant.pk)
    return supplier_withdrawal_request(
        merchant=world.a.merchant,
        supplier=supply.fruit,
        amount="10.00",
        account="alipay:fruit",
        actor=None,
    ).pk


def supplier_withdrawal_list(world: World) -> None:
    supply = supply_world(world)
    _fruit_withdrawal(supply, world)
    assert _ids(client_for(supply.tea_staff).get(api_url("supplier-withdrawal-list"))) == []
    assert client_for(world.a.staff).get(api_url("supplier-withdrawal-list")).status_code == 403


def supplier_withdrawal_detail(world: World) -> None:
    supply = supply_world(world)
    other = _fruit_withdrawal(supply, world)
    response = client_for(supply.tea_staff).get(api_url("supplier-withdrawal-detail", pk=other))
    assert response.status_code == 404


CASES = {
    ("supplier-application-create", "post"): public_supplier_application,
    ("supplier-product-list", "get"): supplier_list(
        "supplier-product-list", lambda s, w: [s.tea_pool.product_id]
    ),
    ("supplier-product-detail", "get"): supplier_detail(
        "supplier-product-detail", lambda s, w: s.fruit_pool.product_id
    ),
    ("supplier-sku-list", "get"): supplier_list("supplier-sku-list", lambda s, w: [s.tea_pool.pk]),
    ("supplier-sku-detail", "get"): supplier_detail(
        "supplier-sku-detail", lambda s, w: s.fruit_pool.pk
    ),
    ("supplier-sku-detail", "patch"): supplier_sku_patch_own,
    ("supplier-shipment-list", "get"): supplier_list(
        "supplier-shipment-list",
        lambda s, w: [
            s.parcels[(w.b.merchant.pk, s.tea.pk)].pk,
            s.parcels[(w.a.merchant.pk, s.tea.pk)].pk,
        ],
    ),
    ("supplier-shipment-detail", "get"): supplier_detail(
        "supplier-shipment-detail", lambda s, w: s.parcels[(w.a.merchant.pk, s.fruit.pk)].pk
    ),
    ("supplier-shipment-ship", "post"): supplier_shipment_ship,
    ("supplier-balance-list", "get"): supplier_balance_list,
    ("supplier-withdrawal-list", "get"): supplier_withdrawal_list,
    ("supplier-withdrawal-list", "post"): supplier_withdrawal_create,
    ("supplier-withdrawal-detail", "get"): supplier_withdrawal_detail,
    ("merchant-catalogue-list", "get"): merchant_catalogue_list,
    ("merchant-catalogue-detail", "get"): merchant_catalogue_detail,
    ("merchant-catalogue-pick", "post"): merchant_catalogue_pick,
    ("merchant-shipment-list", "get"): merchant_shipment_list,
    ("merchant-shipment-detail", "get"): merchant_shipment_detail,
    ("merchant-shipment-ship", "post"): merchant_shipment_ship,
}
