"""The marketing centre and members in the API: what consumers and merchant staff can do, the
refusals (a clear 4xx, nothing written), and flat query counts on the lists."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.marketing.models import Coupon, CouponGrant, FlashSale, Promotion
from apps.marketing.services import coupon_grant
from apps.members.models import Member, MemberLevel
from apps.members.services import member_order_completed
from apps.orders.services import cart_add_item
from tests.api.conftest import api_url
from tests.api.test_queries import token_client
from tests.factories import SkuFactory, UserFactory
from tests.services.flows import paid_order
from tests.suppliers.conftest import make_supplier, make_supply_product, pick

from . import factories as f

D = Decimal


def test_a_consumer_claims_from_the_coupon_centre_within_the_limit(merchant, customer):
    coupon = f.coupon(merchant, per_person_limit=1, total_quantity=5)
    client = token_client(customer)
    listed = client.get(api_url("store-coupon-list", store=merchant.slug)).json()["results"]
    assert [(row["id"], row["remaining"], row["claimed"]) for row in listed] == [(coupon.pk, 5, 0)]

    claimed = client.post(api_url("store-coupon-claim", store=merchant.slug, pk=coupon.pk))
    assert claimed.status_code == 201
    assert (claimed.json()["state"], claimed.json()["source"]) == ("unused", "claimed")

    again = client.post(api_url("store-coupon-claim", store=merchant.slug, pk=coupon.pk))
    assert (again.status_code, again.json()["code"]) == (400, "coupon_limit_reached")
    assert CouponGrant.objects.count() == 1
    listed = client.get(api_url("store-coupon-list", store=merchant.slug)).json()["results"]
    assert [(row["remaining"], row["claimed"]) for row in listed] == [(4, 1)]


def test_signed_out_visitors_see_the_centre_but_cannot_claim(merchant):
    coupon = f.coupon(merchant)
    client = token_client(UserFactory())
    client.credentials()
    assert client.get(api_url("store-coupon-list", store=merchant.slug)).status_code == 200
    response = client.post(api_url("store-coupon-claim", store=merchant.slug, pk=coupon.pk))
    assert response.status_code == 401
    assert CouponGrant.objects.count() == 0


def test_a_coupon_not_in_the_centre_cannot_be_claimed_there(merchant, customer):
    hidden = f.coupon(merchant, claimable=False, distributor_shareable=True)
    response = token_client(customer).post(
        api_url("store-coupon-claim", store=merchant.slug, pk=hidden.pk)
    )
    assert (response.status_code, response.json()["code"]) == (404, "unknown_coupon")


def test_my_coupons_by_state(merchant, customer):
    order = paid_order(
        merchant=merchant, customer=customer, lines=[(SkuFactory(product__merchant=merchant), 1)]
    )
    unused = f.granted(merchant, customer, name="unused")
    used = f.granted(merchant, customer, name="used")
    CouponGrant.objects.filter(pk=used.pk).update(status="used", order=order)
    expired = f.granted(merchant, customer, name="expired")
    CouponGrant.objects.filter(pk=expired.pk).update(valid_until=timezone.now() - timedelta(days=1))
    client = token_client(customer)

    def ids(state: str) -> list[int]:
        response = client.get(
            api_url("store-my-coupon-list", store=merchant.slug), {"state": state}
        )
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids("unused") == [unused.pk]
    assert ids("used") == [used.pk]
    assert ids("expired") == [expired.pk]
    assert sorted(ids("")) == sorted([unused.pk, used.pk, expired.pk])
    bad = client.get(api_url("store-my-coupon-list", store=merchant.slug), {"state": "x"})
    assert bad.status_code == 400


def test_the_cart_quote_prices_the_chosen_coupon_and_points_and_writes_nothing(merchant, customer):
    sku = SkuFactory(product__merchant=merchant, price=D("80.00"), stock=5)
    f.member(merchant, customer, points=500)
    small = f.granted(merchant, customer, name="¥5", amount_off=D("5.00"))
    big = f.granted(merchant, customer, name="¥10")
    cart_add_item(merchant=merchant, customer=customer, sku_id=sku.pk, quantity=1)
    client = token_client(customer)
    url = api_url("store-cart-quote", store=merchant.slug)

    best = client.post(url, {}, format="json").json()
    assert (best["coupon"], best["payable"]) == (big.pk, "70.00")
    chosen = client.post(url, {"coupon": str(small.pk), "points": 300}, format="json").json()
    assert (chosen["coupon"], chosen["payable"]) == (small.pk, "72.00")
    assert [(s["step"], s["amount"]) for s in chosen["savings"]] == [
        ("coupon", "5.00"),
        ("points", "3.00"),
    ]
    none = client.post(url, {"coupon": "none"}, format="json").json()
    assert (none["coupon"], none["payable"]) == (None, "80.00")
    too_many = client.post(url, {"points": 600}, format="json")
    assert (too_many.status_code, too_many.json()["code"]) == (400, "points_over_balance")
    assert CouponGrant.objects.filter(status="available").count() == 2


def test_membership_shows_level_progress_and_points_history(merchant, customer):
    MemberLevel.objects.create(merchant=merchant, name="普通", min_spend=D("0"))
    MemberLevel.objects.create(
        merchant=merchant, name="银卡", min_spend=D("200"), discount_percent=D("5")
    )
    order = paid_order(
        merchant=merchant,
        customer=customer,
        lines=[(SkuFactory(product__merchant=merchant, price=D("50.00")), 1)],
    )
    member_order_completed(
        merchant_id=merchant.pk, customer_id=customer.pk, order_id=order.pk, paid=D("50.00")
    )
    client = token_client(customer)

    profile = client.get(api_url("store-membership", store=merchant.slug)).json()
    assert profile["level"]["name"] == "普通"
    assert profile["next_level"]["name"] == "银卡"
    assert (profile["spend"], profile["to_next_level"], profile["progress_percent"]) == (
        "50.00",
        "150.00",
        25,
    )
    assert profile["points_balance"] == 50
    history = client.get(api_url("store-membership-points", store=merchant.slug)).json()
    assert [(row["kind"], row["points"], row["order"]) for row in history["results"]] == [
        ("earned", 50, order.pk)
    ]


def test_a_new_customer_reads_as_the_base_level_without_a_member_row(merchant, customer):
    MemberLevel.objects.create(merchant=merchant, name="普通", min_spend=D("0"))
    profile = token_client(customer).get(api_url("store-membership", store=merchant.slug)).json()
    assert (profile["level"]["name"], profile["points_balance"], profile["spend"]) == (
        "普通",
        0,
        "0.00",
    )
    assert Member.objects.count() == 0


# --- merchant staff ---------------------------------------------------------------------------


def test_staff_create_change_and_delete_a_coupon(merchant, staff_user):
    client = token_client(staff_user)
    created = client.post(
        api_url("merchant-coupon-list"),
        {
            "name": "9 折",
            "kind": "percent",
            "percent_off": "10.00",
            "max_discount": "20.00",
            "valid_days": 3,
            "total_quantity": 10,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    coupon_id = created.json()["id"]
    changed = client.patch(
        api_url("merchant-coupon-detail", pk=coupon_id), {"total_quantity": 20}, format="json"
    )
    assert changed.json()["total_quantity"] == 20
    deleted = client.delete(api_url("merchant-coupon-detail", pk=coupon_id))
    assert deleted.status_code == 204
    assert Coupon.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "amount", "amount_off": "5.00"}, "non_field_errors"),  # no validity
        ({"kind": "percent", "valid_days": 3}, "percent_off"),
        ({"kind": "amount", "valid_days": 3}, "amount_off"),
        (
            {"kind": "amount", "amount_off": "5.00", "valid_days": 3, "percent_off": "120"},
            "percent_off",
        ),
    ],
)
def test_a_bad_coupon_is_a_400_and_creates_nothing(merchant, staff_user, body, field):
    response = token_client(staff_user).post(
        api_url("merchant-coupon-list"),
        {"name": "x", "total_quantity": 10, **body},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert Coupon.objects.count() == 0


def test_an_issued_coupon_cannot_be_deleted_nor_shrunk_below_what_was_issued(
    merchant, staff_user, customer
):
    coupon = f.coupon(merchant, total_quantity=5, per_person_limit=2)
    coupon_grant(coupon=coupon, customer=customer)
    coupon_grant(coupon=coupon, customer=customer)
    client = token_client(staff_user)
    deleted = client.delete(api_url("merchant-coupon-detail", pk=coupon.pk))
    assert (deleted.status_code, deleted.json()["code"]) == (409, "coupon_issued")
    shrunk = client.patch(
        api_url("merchant-coupon-detail", pk=coupon.pk), {"total_quantity": 1}, format="json"
    )
    assert shrunk.status_code == 400
    assert Coupon.objects.get(pk=coupon.pk).total_quantity == 5


def test_staff_write_a_full_reduction_with_its_steps(merchant, staff_user):
    now = timezone.now()
    client = token_client(staff_user)
    created = client.post(
        api_url("merchant-promotion-list"),
        {
            "name": "满减",
            "kind": "full_reduction",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "steps": [
                {"threshold": "199.00", "amount_off": "30.00"},
                {"threshold": "99.00", "amount_off": "10.00"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert [s["threshold"] for s in created.json()["steps"]] == ["99.00", "199.00"]
    promotion_id = created.json()["id"]
    replaced = client.patch(
        api_url("merchant-promotion-detail", pk=promotion_id),
        {"steps": [{"threshold": "50.00", "amount_off": "5.00"}]},
        format="json",
    )
    assert [s["threshold"] for s in replaced.json()["steps"]] == ["50.00"]
    backwards = client.patch(
        api_url("merchant-promotion-detail", pk=promotion_id),
        {"ends_at": (now - timedelta(days=1)).isoformat()},
        format="json",
    )
    assert backwards.status_code == 400
    assert Promotion.objects.get(pk=promotion_id).ends_at > now


def test_a_limited_price_below_the_floor_is_refused(merchant, staff_user):
    sku = pick(merchant, make_supply_product(make_supplier()), price="99.00")
    now = timezone.now()
    response = token_client(staff_user).post(
        api_url("merchant-promotion-list"),
        {
            "name": "限时",
            "kind": "limited_price",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "prices": [{"sku": sku.pk, "price": "50.00"}],
        },
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "below_floor")
    assert Promotion.objects.count() == 0


def test_a_flash_sale_on_a_supplied_sku_is_refused_through_the_api(merchant, staff_user):
    sku = pick(merchant, make_supply_product(make_supplier()), price="99.00")
    now = timezone.now()
    response = token_client(staff_user).post(
        api_url("merchant-flash-sale-list"),
        {
            "name": "秒杀",
            "sku": sku.pk,
            "price": "95.00",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "pool": 1,
        },
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "supplied_sku")
    assert FlashSale.objects.count() == 0


def test_a_flash_sale_only_changes_its_name_and_price(merchant, staff_user):
    sku = SkuFactory(product__merchant=merchant, price=D("50.00"), stock=10)
    sale = f.flash(merchant, sku, pool=4)
    response = token_client(staff_user).patch(
        api_url("merchant-flash-sale-detail", pk=sale.pk),
        {"price": "19.90", "pool": 99},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["price"], response.json()["pool"]) == ("19.90", 4)


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 10])
def test_coupon_centre_and_my_coupons_queries(merchant, customer, django_assert_num_queries, rows):
    for index in range(rows):
        coupon_grant(coupon=f.coupon(merchant, name=f"c{index}"), customer=customer)
    client = token_client(customer)
    # token+user, store, count, coupons, the caller's claim counts
    with django_assert_num_queries(5):
        response = client.get(api_url("store-coupon-list", store=merchant.slug))
    assert response.json()["count"] == rows
    # token+user, store, count, grants with their coupons
    with django_assert_num_queries(4):
        response = client.get(api_url("store-my-coupon-list", store=merchant.slug))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 10])
def test_merchant_marketing_lists_queries(merchant, staff_user, django_assert_num_queries, rows):
    for index in range(rows):
        f.coupon(merchant, name=f"c{index}")
        f.limited_price(merchant, SkuFactory(product__merchant=merchant), D("1.00"))
    client = token_client(staff_user)
    # token+user, staff's merchant, count, coupons, their products
    with django_assert_num_queries(5):
        assert client.get(api_url("merchant-coupon-list")).json()["count"] == rows
    # token+user, staff's merchant, count, promotions, products, prices, steps
    with django_assert_num_queries(7):
        assert client.get(api_url("merchant-promotion-list")).json()["count"] == rows
