"""The marketing centre's and members' API routes for tests/api/test_isolation.py: another
merchant's coupons, grants, promotions, flash sales, products and SKUs act as absent (404), another
customer's rows are absent, and a refused request writes nothing."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.distributors.models import CustomerBinding
from apps.marketing.models import (
    Coupon,
    CouponClaimCount,
    CouponGrant,
    FlashSale,
    Promotion,
    PromotionPrice,
    PromotionStep,
)
from apps.marketing.services import coupon_grant
from apps.members.models import Member, PointsEntry
from tests.api.conftest import World, api_url, client_for

from . import factories as f


def _rows() -> dict[str, list]:
    return {
        model.__name__: list(model.objects.order_by("id").values())
        for model in (
            Coupon,
            CouponGrant,
            CouponClaimCount,
            Promotion,
            PromotionPrice,
            PromotionStep,
            FlashSale,
            Member,
            PointsEntry,
        )
    }


def _refused(world: World, call: Callable[[], Any], status: int = 404) -> dict:
    before, rows_before = world.snapshot(), _rows()
    response = call()
    assert response.status_code == status, response.content
    assert world.snapshot() == before
    assert _rows() == rows_before
    return response.json() if response.content else {}


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _coupons(world: World) -> tuple[Coupon, Coupon]:
    return f.coupon(world.a.merchant, name="A"), f.coupon(world.b.merchant, name="B")


def _grants(world: World) -> tuple[CouponGrant, CouponGrant, CouponGrant]:
    """The shared customer's grant in A and in B, and another customer's in A."""
    a_coupon, b_coupon = _coupons(world)
    return (
        coupon_grant(coupon=a_coupon, customer=world.a.customer),
        coupon_grant(coupon=b_coupon, customer=world.a.customer),
        coupon_grant(coupon=a_coupon, customer=world.stranger),
    )


# --- consumers --------------------------------------------------------------------------------


def store_coupons(world: World) -> None:
    a_coupon, _b_coupon = _coupons(world)
    f.coupon(world.a.merchant, name="hidden", claimable=False)
    response = client_for(None).get(api_url("store-coupon-list", store=world.a.slug))
    assert _ids(response) == [a_coupon.pk]


def store_coupon_claim(world: World) -> None:
    a_coupon, b_coupon = _coupons(world)
    customer = client_for(world.a.customer)
    body = _refused(
        world,
        lambda: customer.post(api_url("store-coupon-claim", store=world.a.slug, pk=b_coupon.pk)),
    )
    assert body["code"] == "unknown_coupon"
    response = customer.post(api_url("store-coupon-claim", store=world.a.slug, pk=a_coupon.pk))
    assert response.status_code == 201, response.content
    assert CouponGrant.objects.get(pk=response.json()["id"]).merchant_id == world.a.merchant.pk


def store_my_coupons(world: World) -> None:
    a_grant, _b_grant, _strangers = _grants(world)
    response = client_for(world.a.customer).get(api_url("store-my-coupon-list", store=world.a.slug))
    assert _ids(response) == [a_grant.pk]


def store_my_coupon(world: World) -> None:
    a_grant, b_grant, strangers = _grants(world)
    customer = client_for(world.a.customer)
    assert (
        customer.get(
            api_url("store-my-coupon-detail", store=world.a.slug, pk=a_grant.pk)
        ).status_code
        == 200
    )
    for other in (b_grant, strangers):
        _refused(
            world,
            lambda other=other: customer.get(
                api_url("store-my-coupon-detail", store=world.a.slug, pk=other.pk)
            ),
        )


def store_cart_quote(world: World) -> None:
    _a_grant, b_grant, strangers = _grants(world)
    customer = client_for(world.a.customer)
    for other in (b_grant, strangers):
        body = _refused(
            world,
            lambda other=other: customer.post(
                api_url("store-cart-quote", store=world.a.slug),
                {"coupon": str(other.pk)},
                format="json",
            ),
        )
        assert body["code"] == "unknown_coupon"


def store_membership(world: World) -> None:
    f.member(world.b.merchant, world.a.customer, discount="10", points=500)
    response = client_for(world.a.customer).get(api_url("store-membership", store=world.a.slug))
    assert response.status_code == 200
    assert (response.json()["points_balance"], response.json()["level"]) == (0, None)


def store_membership_points(world: World) -> None:
    f.member(world.b.merchant, world.a.customer, points=500)
    f.member(world.a.merchant, world.stranger, points=200, spend="1.00")
    mine = f.member(world.a.merchant, world.a.customer, points=100, spend="2.00")
    response = client_for(world.a.customer).get(
        api_url("store-membership-points", store=world.a.slug)
    )
    assert _ids(response) == list(
        PointsEntry.objects.filter(member=mine).values_list("id", flat=True)
    )


def store_coupon_link_claim(world: World) -> None:
    a_coupon = f.coupon(world.a.merchant, name="A", claimable=False, distributor_shareable=True)
    b_coupon = f.coupon(world.b.merchant, name="B", claimable=False, distributor_shareable=True)
    a_code, b_code = world.a.distributors[1].invite_code, world.b.distributors[1].invite_code
    customer = client_for(world.stranger)
    url = api_url("store-coupon-link-list", store=world.a.slug)
    for body in (
        {"coupon": b_coupon.pk, "invite_code": a_code},
        {"coupon": a_coupon.pk, "invite_code": b_code},
    ):
        _refused(world, lambda body=body: customer.post(url, body, format="json"))
    before = CustomerBinding.objects.count()
    response = customer.post(url, {"coupon": a_coupon.pk, "invite_code": a_code}, format="json")
    assert response.status_code == 201, response.content
    grant = CouponGrant.objects.get(pk=response.json()["id"])
    assert (grant.merchant_id, grant.distributor_id) == (
        world.a.merchant.pk,
        world.a.distributors[1].pk,
    )
    assert CustomerBinding.objects.count() == before + 1
    assert (
        CustomerBinding.objects.get(customer=world.stranger).distributor_id == grant.distributor_id
    )


def store_distributor_coupon_links(world: World) -> None:
    a_coupon = f.coupon(world.a.merchant, name="A", distributor_shareable=True)
    f.coupon(world.b.merchant, name="B", distributor_shareable=True)
    f.coupon(world.a.merchant, name="not shared")
    distributor = world.a.distributors[1]
    response = client_for(distributor.user).get(
        api_url("store-distributor-coupon-links", store=world.a.slug)
    )
    assert response.status_code == 200
    assert [
        (
            row["coupon"]["id"],
            row["url"].endswith(f"/coupons/{a_coupon.pk}/?ref={distributor.invite_code}"),
        )
        for row in response.json()
    ] == [(a_coupon.pk, True)]
    # a customer of the store who is no distributor of it
    _refused(
        world,
        lambda: client_for(world.stranger).get(
            api_url("store-distributor-coupon-links", store=world.a.slug)
        ),
    )


# --- merchant staff ---------------------------------------------------------------------------


def merchant_coupons(world: World) -> None:
    a_coupon, _b_coupon = _coupons(world)
    assert _ids(client_for(world.a.staff).get(api_url("merchant-coupon-list"))) == [a_coupon.pk]


def merchant_coupon_create(world: World) -> None:
    staff = client_for(world.a.staff)
    body = {
        "name": "¥5 off",
        "kind": "no_threshold",
        "amount_off": "5.00",
        "valid_days": 7,
        "total_quantity": 10,
        "merchant": world.b.merchant.pk,
    }
    _refused(
        world,
        lambda: staff.post(
            api_url("merchant-coupon-list"),
            {**body, "scope": "products", "products": [world.b.product.pk]},
            format="json",
        ),
    )
    response = staff.post(api_url("merchant-coupon-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert Coupon.objects.get(pk=response.json()["id"]).merchant_id == world.a.merchant.pk


def _other_merchants(name: str, method: str, rows: Callable, body: dict | None = None) -> Callable:
    def case(world: World) -> None:
        _a_row, b_row = rows(world)
        call = getattr(client_for(world.a.staff), method)
        _refused(world, lambda: call(api_url(name, pk=b_row.pk), body or {}, format="json"))

    return case


def _promotions(world: World) -> tuple[Promotion, Promotion]:
    return (
        f.limited_price(world.a.merchant, world.a.sku, Decimal("90.00")),
        f.limited_price(world.b.merchant, world.b.sku, Decimal("90.00")),
    )


def _flash_sales(world: World) -> tuple[FlashSale, FlashSale]:
    return f.flash(world.a.merchant, world.a.sku), f.flash(world.b.merchant, world.b.sku)


def merchant_promotions(world: World) -> None:
    a_promotion, _b_promotion = _promotions(world)
    response = client_for(world.a.staff).get(api_url("merchant-promotion-list"))
    assert _ids(response) == [a_promotion.pk]


def _promotion_body(world: World, sku_id: int) -> dict:
    now = timezone.now()
    return {
        "name": "Weekend",
        "kind": "limited_price",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "prices": [{"sku": sku_id, "price": "80.00"}],
    }


def merchant_promotion_create(world: World) -> None:
    staff = client_for(world.a.staff)
    _refused(
        world,
        lambda: staff.post(
            api_url("merchant-promotion-list"),
            _promotion_body(world, world.b.sku.pk),
            format="json",
        ),
    )
    response = staff.post(
        api_url("merchant-promotion-list"), _promotion_body(world, world.a.sku.pk), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["prices"] == [{"sku": world.a.sku.pk, "price": "80.00"}]


def _promotion_change(method: str) -> Callable:
    def case(world: World) -> None:
        a_promotion, b_promotion = _promotions(world)
        staff = client_for(world.a.staff)
        call = getattr(staff, method)
        body = _promotion_body(world, world.a.sku.pk)
        _refused(
            world,
            lambda: call(
                api_url("merchant-promotion-detail", pk=b_promotion.pk), body, format="json"
            ),
        )
        # A's own promotion with B's SKU in the body
        _refused(
            world,
            lambda: call(
                api_url("merchant-promotion-detail", pk=a_promotion.pk),
                _promotion_body(world, world.b.sku.pk),
                format="json",
            ),
        )

    return case


def merchant_flash_sales(world: World) -> None:
    a_sale, _b_sale = _flash_sales(world)
    response = client_for(world.a.staff).get(api_url("merchant-flash-sale-list"))
    assert _ids(response) == [a_sale.pk]


def merchant_flash_sale_create(world: World) -> None:
    now = timezone.now()
    body = {
        "name": "秒杀",
        "price": "50.00",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "pool": 3,
        "per_person_limit": 1,
    }
    staff = client_for(world.a.staff)
    world.a.sku.refresh_from_db()
    stock = world.a.sku.stock
    _refused(
        world,
        lambda: staff.post(
            api_url("merchant-flash-sale-list"), {**body, "sku": world.b.sku.pk}, format="json"
        ),
    )
    response = staff.post(
        api_url("merchant-flash-sale-list"), {**body, "sku": world.a.sku.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    world.a.sku.refresh_from_db()
    assert (response.json()["remaining"], world.a.sku.stock) == (3, stock - 3)


MARKETING_CASES: dict[tuple[str, str], Callable[[World], None]] = {
    ("store-coupon-list", "get"): store_coupons,
    ("store-coupon-claim", "post"): store_coupon_claim,
    ("store-my-coupon-list", "get"): store_my_coupons,
    ("store-my-coupon-detail", "get"): store_my_coupon,
    ("store-cart-quote", "post"): store_cart_quote,
    ("store-coupon-link-list", "post"): store_coupon_link_claim,
    ("store-distributor-coupon-links", "get"): store_distributor_coupon_links,
    ("store-membership", "get"): store_membership,
    ("store-membership-points", "get"): store_membership_points,
    ("merchant-coupon-list", "get"): merchant_coupons,
    ("merchant-coupon-list", "post"): merchant_coupon_create,
    **{
        ("merchant-coupon-detail", method): _other_merchants(
            "merchant-coupon-detail", method, _coupons, {"name": "Taken over"}
        )
        for method in ("get", "put", "patch", "delete")
    },
    ("merchant-promotion-list", "get"): merchant_promotions,
    ("merchant-promotion-list", "post"): merchant_promotion_create,
    ("merchant-promotion-detail", "get"): _other_merchants(
        "merchant-promotion-detail", "get", _promotions
    ),
    ("merchant-promotion-detail", "delete"): _other_merchants(
        "merchant-promotion-detail", "delete", _promotions
    ),
    ("merchant-promotion-detail", "put"): _promotion_change("put"),
    ("merchant-promotion-detail", "patch"): _promotion_change("patch"),
    ("merchant-flash-sale-list", "get"): merchant_flash_sales,
    ("merchant-flash-sale-list", "post"): merchant_flash_sale_create,
    **{
        ("merchant-flash-sale-detail", method): _other_merchants(
            "merchant-flash-sale-detail", method, _flash_sales, {"name": "x", "price": "1.00"}
        )
        for method in ("get", "put", "patch")
    },
}
