"""Tenant isolation over every API endpoint, driven by the URL patterns themselves.

``ROUTES`` is read from ``config.api_urls``: every (route name, HTTP method) the API serves.
Each one must have a case in ``CASES`` proving that another merchant's ids (in the URL or in the
body) behave as absent (404) and write nothing, that another customer's rows are absent, and that
lists hold only the caller's merchant's rows. A new endpoint without a case fails
``test_every_route_has_a_case``.
"""

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.commissions.models import BonusTier, CommissionOverride, CommissionPlan
from apps.distributors.agency import tier_price_create
from apps.distributors.guards import fraud_flag_raise
from apps.distributors.models import (
    CustomerBinding,
    DistributorApplication,
    DistributorPrice,
    FraudFlag,
    ProgrammeSettings,
    Tier,
    TierCondition,
    TierSkuPrice,
)
from apps.distributors.recruitment import application_submit, programme_settings_update
from apps.materials.models import Material, MaterialRead
from apps.merchants.models import MerchantApplication
from apps.payments.models import Payment
from apps.payments.providers.sandbox import sandbox_record
from apps.programme.binding import customer_bind
from apps.withdrawals.models import WithdrawalSettings
from config import api_urls
from tests.factories import UserFactory
from tests.groupbuy.isolation_cases import GROUPBUY_CASES
from tests.live.isolation_cases import LIVE_CASES
from tests.marketing.isolation_cases import MARKETING_CASES

from .conftest import World, api_url, client_for
from .supply_cases import CASES as SUPPLY_CASES

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _methods(pattern: URLPattern) -> list[str]:
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:
        return sorted(actions)
    view_class = pattern.callback.view_class
    return [method for method in HTTP_METHODS if hasattr(view_class, method)]


ROUTES = sorted(
    (pattern.name, method)
    for _path, pattern in _walk(api_urls.urlpatterns)
    for method in _methods(pattern)
)


def test_every_route_has_a_case() -> None:
    assert all(name for name, _method in ROUTES), "every API route needs a name"
    assert set(ROUTES) == set(CASES)


def test_route_enumeration_sees_the_whole_api() -> None:
    assert len(ROUTES) == 192
    assert ("merchant-order-ship", "post") in ROUTES
    assert ("store-cart-item-detail", "delete") in ROUTES


# --- helpers ----------------------------------------------------------------------------------


def _refused(world: World, call: Callable[[], object], status: int = 404) -> dict:
    before = world.snapshot()
    response = call()
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    assert world.snapshot() == before
    return response.json() if response.content else {}  # type: ignore[attr-defined]


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return [row["id"] for row in rows]


# --- public -----------------------------------------------------------------------------------


def public_token(world: World) -> None:
    before = Token.objects.count()
    response = client_for(None).post(
        api_url("auth-token"), {"username": world.b.staff.username, "password": "wrong"}
    )
    assert response.status_code == 400
    assert Token.objects.count() == before


def public_application(world: World) -> None:
    before = MerchantApplication.objects.count()
    body = _refused(
        world,
        lambda: client_for(None).post(
            api_url("merchant-application-create"),
            {
                "username": "newcomer",
                "password": "a-long-enough-pass-42",
                "store_name": "Copycat",
                "slug": world.b.slug,
                "contact_name": "Wang",
                "contact_phone": "139",
                "contact_email": "wang@example.com",
            },
            format="json",
        ),
        status=400,
    )
    assert body["code"] == "slug_taken"
    assert MerchantApplication.objects.count() == before


# --- storefront -------------------------------------------------------------------------------


def store_products(world: World) -> None:
    response = client_for(None).get(api_url("store-product-list", store=world.a.slug))
    assert _ids(response) == [world.a.product.pk]


def store_product(world: World) -> None:
    url = api_url("store-product-detail", store=world.a.slug, pk=world.b.product.pk)
    assert client_for(None).get(url).status_code == 404


def store_cart(world: World) -> None:
    for store in (world.a, world.b):  # the same customer has a cart in each store
        response = client_for(store.customer).get(api_url("store-cart", store=store.slug))
        assert [item["id"] for item in response.json()["items"]] == [store.cart_item.pk]
    stranger = client_for(world.stranger).get(api_url("store-cart", store=world.a.slug))
    assert stranger.json()["items"] == []


def store_cart_add(world: World) -> None:
    body = _refused(
        world,
        lambda: client_for(world.a.customer).post(
            api_url("store-cart-item-list", store=world.a.slug),
            {"sku": world.b.sku.pk, "quantity": 1},
            format="json",
        ),
    )
    assert body == {"detail": f"No SKU with id {world.b.sku.pk}.", "code": "unknown_sku"}


def _cart_item_case(method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        other_merchant = api_url(
            "store-cart-item-detail", store=world.a.slug, pk=world.b.cart_item.pk
        )
        own = api_url("store-cart-item-detail", store=world.a.slug, pk=world.a.cart_item.pk)
        for user, url in ((world.a.customer, other_merchant), (world.stranger, own)):
            call = getattr(client_for(user), method)
            _refused(world, lambda call=call, url=url: call(url, {"quantity": 3}, format="json"))

    return case


def store_orders(world: World) -> None:
    response = client_for(world.a.customer).get(api_url("store-order-list", store=world.a.slug))
    assert _ids(response) == [world.a.paid_order.pk, world.a.pending_order.pk]
    assert (
        _ids(client_for(world.stranger).get(api_url("store-order-list", store=world.a.slug))) == []
    )


def store_order_place(world: World) -> None:
    body = _refused(
        world,
        lambda: client_for(world.a.customer).post(
            api_url("store-order-list", store=world.a.slug),
            {
                "recipient_name": "Li Lei",
                "recipient_phone": "13800000000",
                "shipping_address": "1 Nanjing Road",
                "lines": [
                    {"sku": world.a.sku.pk, "quantity": 1},
                    {"sku": world.b.sku.pk, "quantity": 1},
                ],
            },
            format="json",
        ),
    )
    assert body["code"] == "unknown_sku"


def _order_case(name: str, method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        other_merchant = api_url(name, store=world.a.slug, pk=world.b.pending_order.pk)
        other_customer = api_url(name, store=world.a.slug, pk=world.a.pending_order.pk)
        for user, url in ((world.a.customer, other_merchant), (world.stranger, other_customer)):
            call = getattr(client_for(user), method)
            _refused(world, lambda call=call, url=url: call(url, format="json"))

    return case


def store_join(world: World) -> None:
    body = _refused(
        world,
        lambda: client_for(world.stranger).post(
            api_url("store-distributor-join", store=world.a.slug),
            {"invite_code": world.b.distributors[0].invite_code},
            format="json",
        ),
    )
    assert body["code"] == "unknown_invite_code"


def _distributor_only_case(name: str) -> Callable[[World], None]:
    """A distributor of store B only is no distributor in store A."""

    def case(world: World) -> None:
        b_distributor = world.b.distributors[0].user
        assert client_for(b_distributor).get(api_url(name, store=world.b.slug)).status_code == 200
        body = _refused(
            world, lambda: client_for(b_distributor).get(api_url(name, store=world.a.slug))
        )
        assert body["code"] == "not_a_distributor"

    return case


def _bound_in_b_only(world: World) -> None:
    customer_bind(
        merchant=world.b.merchant,
        customer=world.a.customer,
        invite_code=world.b.distributors[1].invite_code,
    )


def store_binding_get(world: World) -> None:
    _bound_in_b_only(world)
    in_b = client_for(world.a.customer).get(api_url("store-binding-list", store=world.b.slug))
    assert in_b.json()["distributor"]["id"] == world.b.distributors[1].pk
    body = _refused(
        world,
        lambda: client_for(world.a.customer).get(api_url("store-binding-list", store=world.a.slug)),
    )
    assert body["code"] == "not_bound"


def store_binding_post(world: World) -> None:
    _bound_in_b_only(world)
    bindings = list(CustomerBinding.objects.order_by("id").values())
    body = _refused(
        world,
        lambda: client_for(world.a.customer).post(
            api_url("store-binding-list", store=world.a.slug),
            {"invite_code": world.b.distributors[0].invite_code},
            format="json",
        ),
    )
    assert body["code"] == "unknown_invite_code"
    assert list(CustomerBinding.objects.order_by("id").values()) == bindings


def store_commissions(world: World) -> None:
    b_child = world.b.distributors[1].user
    in_b = client_for(b_child).get(api_url("store-commission-list", store=world.b.slug))
    assert _ids(in_b) == [world.b.records[0].pk]
    assert _ids(client_for(b_child).get(api_url("store-commission-list", store=world.a.slug))) == []


def store_refunds(world: World) -> None:
    response = client_for(world.a.customer).get(api_url("store-refund-list", store=world.a.slug))
    assert _ids(response) == [world.a.refund.pk]  # type: ignore[union-attr]
    assert (
        _ids(client_for(world.stranger).get(api_url("store-refund-list", store=world.a.slug))) == []
    )


def store_refund_create(world: World) -> None:
    client = client_for(world.a.customer)
    url = api_url("store-refund-list", store=world.a.slug)
    other_order = _refused(
        world,
        lambda: client.post(
            url,
            {"order": world.b.paid_order.pk, "kind": "order", "reason": "broken"},
            format="json",
        ),
    )
    assert other_order["code"] == "unknown_order"
    other_line = _refused(
        world,
        lambda: client.post(
            url,
            {
                "order": world.a.paid_order.pk,
                "kind": "line",
                "reason": "broken",
                "lines": [{"order_line": world.b.completed_order.lines.get().pk}],
            },
            format="json",
        ),
    )
    assert other_line["code"] == "unknown_order_line"
    stranger = _refused(
        world,
        lambda: client_for(world.stranger).post(
            url,
            {"order": world.a.paid_order.pk, "kind": "order", "reason": "broken"},
            format="json",
        ),
    )
    assert stranger["code"] == "unknown_order"


def _store_refund_case(name: str, method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        other_merchant = api_url(name, store=world.a.slug, pk=world.b.refund.pk)  # type: ignore[union-attr]
        other_customer = api_url(name, store=world.a.slug, pk=world.a.refund.pk)  # type: ignore[union-attr]
        for user, url in ((world.a.customer, other_merchant), (world.stranger, other_customer)):
            call = getattr(client_for(user), method)
            _refused(world, lambda call=call, url=url: call(url, format="json"))

    return case


def _merchant_refund_case(name: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        client = client_for(world.a.staff)
        url = api_url(name, pk=world.b.refund.pk)  # type: ignore[union-attr]
        _refused(world, lambda: client.post(url, {"reason": "no"}, format="json"))

    return case


def store_withdrawals(world: World) -> None:
    a_child, b_child = world.a.distributors[1].user, world.b.distributors[1].user
    in_a = client_for(a_child).get(api_url("store-withdrawal-list", store=world.a.slug))
    assert _ids(in_a) == [world.a.withdrawal.pk]  # type: ignore[union-attr]
    assert _ids(client_for(b_child).get(api_url("store-withdrawal-list", store=world.a.slug))) == []
    assert _ids(client_for(a_child).get(api_url("store-withdrawal-list", store=world.b.slug))) == []


def store_withdrawal_request(world: World) -> None:
    b_child = world.b.distributors[1].user  # has ¥20 available in store B, is nobody in store A
    body = _refused(
        world,
        lambda: client_for(b_child).post(
            api_url("store-withdrawal-list", store=world.a.slug),
            {"amount": "10.00", "account": "alipay:x"},
            format="json",
        ),
    )
    assert body["code"] == "not_a_distributor"


def store_withdrawal(world: World) -> None:
    a_child, a_root = world.a.distributors[1].user, world.a.distributors[0].user
    for user, pk in ((a_child, world.b.withdrawal.pk), (a_root, world.a.withdrawal.pk)):  # type: ignore[union-attr]
        url = api_url("store-withdrawal-detail", store=world.a.slug, pk=pk)
        _refused(world, lambda user=user, url=url: client_for(user).get(url))


def store_withdrawal_quote(world: World) -> None:
    b_child = world.b.distributors[1].user
    own = client_for(b_child).get(
        api_url("store-withdrawal-quote", store=world.b.slug), {"amount": "10.00"}
    )
    assert own.status_code == 200
    body = _refused(
        world,
        lambda: client_for(b_child).get(
            api_url("store-withdrawal-quote", store=world.a.slug), {"amount": "10.00"}
        ),
    )
    assert body["code"] == "not_a_distributor"


def merchant_withdrawal_settings_get(world: World) -> None:
    WithdrawalSettings.objects.create(merchant=world.b.merchant, fee_percent=Decimal("2.00"))
    for store, expected in ((world.a, "0.00"), (world.b, "2.00")):
        response = client_for(store.staff).get(api_url("merchant-withdrawal-settings"))
        assert response.json()["fee_percent"] == expected


def merchant_withdrawal_settings_put(world: World) -> None:
    response = client_for(world.b.staff).put(
        api_url("merchant-withdrawal-settings"),
        {
            "minimum_amount": "5.00",
            "fee_percent": "1.00",
            "fee_free_amount": "0.00",
            "tax_percent": "0.00",
            "tax_threshold": "800.00",
            "review_required": True,
            "payout_provider": "sandbox",
        },
        format="json",
    )
    assert response.status_code == 200
    rows = dict(WithdrawalSettings.objects.values_list("merchant_id", "fee_percent"))
    assert rows == {world.b.merchant.pk: Decimal("1.00")}


# --- merchant back office ---------------------------------------------------------------------


def _list_case(name: str, expected: Callable[[World], list[int]]) -> Callable[[World], None]:
    def case(world: World) -> None:
        response = client_for(world.a.staff).get(api_url(name))
        assert _ids(response) == expected(world)

    return case


def _detail_case(name: str, method: str, other: Callable[[World], int]) -> Callable[[World], None]:
    def case(world: World) -> None:
        client = client_for(world.a.staff)
        url = api_url(name, pk=other(world))
        _refused(world, lambda: getattr(client, method)(url, {"name": "Taken over"}, format="json"))

    return case


def merchant_product_create(world: World) -> None:
    response = client_for(world.a.staff).post(
        api_url("merchant-product-list"), {"name": "New tea", "merchant": world.b.merchant.pk}
    )
    assert response.status_code == 201
    assert (
        world.a.merchant.pk
        == type(world.a.product).objects.get(pk=response.json()["id"]).merchant_id
    )


def merchant_sku_create(world: World) -> None:
    body = _refused(
        world,
        lambda: client_for(world.a.staff).post(
            api_url("merchant-sku-list"),
            {
                "product": world.b.product.pk,
                "name": "Big",
                "code": "NEW-1",
                "price": "9.90",
                "stock": 1,
            },
            format="json",
        ),
    )
    assert body == {
        "detail": f"No product with id {world.b.product.pk}.",
        "code": "unknown_product",
    }


def merchant_sku_patch(world: World) -> None:
    _detail_case("merchant-sku-detail", "patch", lambda w: w.b.sku.pk)(world)
    own = api_url("merchant-sku-detail", pk=world.a.sku.pk)
    client = client_for(world.a.staff)
    _refused(world, lambda: client.patch(own, {"product": world.b.product.pk}, format="json"))


def merchant_ship(world: World) -> None:
    client = client_for(world.a.staff)
    url = api_url("merchant-order-ship", pk=world.b.paid_order.pk)
    _refused(
        world, lambda: client.post(url, {"carrier": "SF", "tracking_number": "1"}, format="json")
    )


def merchant_plan_get(world: World) -> None:
    CommissionPlan.objects.filter(merchant=world.b.merchant).update(level1_percent=Decimal("20.00"))
    for store, expected in ((world.a, "10.00"), (world.b, "20.00")):
        response = client_for(store.staff).get(api_url("merchant-commission-plan"))
        assert response.json()["level1_percent"] == expected


def merchant_plan_put(world: World) -> None:
    response = client_for(world.b.staff).put(
        api_url("merchant-commission-plan"),
        {
            "level1_percent": "12.00",
            "level2_percent": "6.00",
            "level3_percent": "3.00",
            "max_total_percent": "25.00",
            "freeze_days": 10,
            "is_enabled": True,
        },
        format="json",
    )
    assert response.status_code == 200
    plans = dict(CommissionPlan.objects.values_list("merchant_id", "level1_percent"))
    assert plans == {world.a.merchant.pk: Decimal("10.00"), world.b.merchant.pk: Decimal("12.00")}


# --- distributor programme --------------------------------------------------------------------


def _programme(world: World) -> dict[str, dict]:
    """Per store: application mode with one question, a pending application, a tier with a
    condition and an open fraud flag."""
    made: dict[str, dict] = {}
    for key, store in (("a", world.a), ("b", world.b)):
        programme_settings_update(
            merchant=store.merchant,
            recruitment_mode=ProgrammeSettings.RecruitmentMode.APPLICATION,
            application_questions=["Why?"],
        )
        application = application_submit(
            merchant=store.merchant, user=UserFactory(), answers=["Because"]
        )
        tier = Tier.objects.create(merchant=store.merchant, name="Gold", rank=1)
        TierCondition.objects.create(
            merchant=store.merchant,
            tier=tier,
            purpose="upgrade",
            metric="own_order_count",
            threshold=Decimal("3"),
            period_days=30,
        )
        flag = fraud_flag_raise(distributor=store.distributors[1], kind="ip", detail={})
        made[key] = {"application": application, "tier": tier, "flag": flag}
    return made


def _programme_rows() -> dict[str, list]:
    return {
        "applications": list(DistributorApplication.objects.order_by("id").values()),
        "tiers": list(Tier.objects.order_by("id").values()),
        "conditions": list(TierCondition.objects.order_by("id").values()),
        "flags": list(FraudFlag.objects.order_by("id").values()),
        "settings": list(ProgrammeSettings.objects.order_by("id").values()),
    }


def _refused_programme(world: World, call: Callable[[], object], status: int = 404) -> dict:
    before = _programme_rows()
    body = _refused(world, call, status)
    assert _programme_rows() == before
    return body


def store_application_get(world: World) -> None:
    made = _programme(world)
    b_applicant = made["b"]["application"].user
    url_b = api_url("store-distributor-application", store=world.b.slug)
    assert client_for(b_applicant).get(url_b).json()["application"]["id"] == (
        made["b"]["application"].pk
    )
    url_a = api_url("store-distributor-application", store=world.a.slug)
    assert client_for(b_applicant).get(url_a).json()["application"] is None


def store_application_post(world: World) -> None:
    _programme(world)
    body = _refused_programme(
        world,
        lambda: client_for(world.stranger).post(
            api_url("store-distributor-application", store=world.a.slug),
            {"answers": ["Yes"], "invite_code": world.b.distributors[0].invite_code},
            format="json",
        ),
    )
    assert body["code"] == "unknown_invite_code"


def merchant_applications(world: World) -> None:
    made = _programme(world)
    response = client_for(world.a.staff).get(api_url("merchant-distributor-application-list"))
    assert _ids(response) == [made["a"]["application"].pk]


def _other_merchants_row(name: str, kind: str, body: dict | None = None, method: str = "post"):  # type: ignore[no-untyped-def]
    def case(world: World) -> None:
        made = _programme(world)
        url = api_url(name, pk=made["b"][kind].pk)
        client = client_for(world.a.staff)
        _refused_programme(world, lambda: getattr(client, method)(url, body or {}, format="json"))

    return case


# --- sharing: leaderboards and the material library --------------------------------------------


def store_leaderboard(world: World) -> None:
    _distributor_only_case("store-distributor-leaderboard")(world)
    b_root = world.b.distributors[0].user
    body = (
        client_for(b_root)
        .get(api_url("store-distributor-leaderboard", store=world.b.slug), {"board": "sales"})
        .json()
    )
    assert [(entry["rank"], entry["value"]) for entry in body["top"]] == [(1, "200.00")]


def merchant_leaderboard(world: World) -> None:
    response = client_for(world.a.staff).get(
        api_url("merchant-leaderboard-list"), {"board": "commission", "period": "all"}
    )
    assert response.status_code == 200
    expected = sorted((str(record.amount) for record in world.a.records), key=Decimal, reverse=True)
    assert [entry["value"] for entry in response.json()["top"]] == expected


def _materials(world: World) -> tuple[Material, Material]:
    """A published article in store A and one in store B (made once per world)."""
    made = getattr(world, "materials", None)
    if made is None:
        made = tuple(
            Material.objects.create(
                merchant=store.merchant,
                title=f"Script {store.slug}",
                body="Say hello.",
                is_published=True,
                published_at=timezone.now(),
            )
            for store in (world.a, world.b)
        )
        world.materials = made  # type: ignore[attr-defined]
    return made  # type: ignore[return-value]


def _library(world: World) -> tuple[list, list]:
    return list(Material.objects.order_by("id").values()), list(
        MaterialRead.objects.order_by("id").values()
    )


def store_materials(world: World) -> None:
    a_material, _b_material = _materials(world)
    a_child = world.a.distributors[1].user
    assert _ids(client_for(a_child).get(api_url("store-material-list", store=world.a.slug))) == [
        a_material.pk
    ]
    b_child = world.b.distributors[1].user
    body = _refused(
        world, lambda: client_for(b_child).get(api_url("store-material-list", store=world.a.slug))
    )
    assert body["code"] == "not_a_distributor"


def _store_material_case(name: str, method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        _a_material, b_material = _materials(world)
        before = _library(world)
        a_child = world.a.distributors[1].user
        call = getattr(client_for(a_child), method)
        _refused(world, lambda: call(api_url(name, store=world.a.slug, pk=b_material.pk)))
        assert _library(world) == before

    return case


def _overrides(world: World) -> tuple[CommissionOverride, CommissionOverride]:
    return tuple(  # type: ignore[return-value]
        CommissionOverride.objects.create(
            merchant=store.merchant, product=store.product, mode="percent", level1_value=12
        )
        for store in (world.a, world.b)
    )


def _bonus_tiers(world: World) -> tuple[BonusTier, BonusTier]:
    return tuple(  # type: ignore[return-value]
        BonusTier.objects.create(
            merchant=store.merchant,
            plan=store.merchant.commission_plan,
            monthly_sales_threshold=1000,
            extra_percent=2,
        )
        for store in (world.a, world.b)
    )


def merchant_overrides(world: World) -> None:
    own, _other = _overrides(world)
    assert _ids(client_for(world.a.staff).get(api_url("merchant-commission-override-list"))) == [
        own.pk
    ]


def merchant_override_create(world: World) -> None:
    client = client_for(world.a.staff)
    url = api_url("merchant-commission-override-list")
    for target in ({"product": world.b.product.pk}, {"sku": world.b.sku.pk}):
        _refused(
            world,
            lambda target=target: client.post(
                url, {**target, "mode": "fixed", "level1_value": "1.00"}, format="json"
            ),
        )
    response = client.post(
        url,
        {
            "sku": world.a.sku.pk,
            "mode": "fixed",
            "level1_value": "1.00",
            "merchant": world.b.merchant.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (
        CommissionOverride.objects.get(pk=response.json()["id"]).merchant_id == world.a.merchant.pk
    )


def _override_detail(method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        own, other = _overrides(world)
        client = client_for(world.a.staff)
        body = {"product": world.a.product.pk, "mode": "percent", "level1_value": "20.00"}
        _refused(
            world,
            lambda: getattr(client, method)(
                api_url("merchant-commission-override-detail", pk=other.pk), body, format="json"
            ),
        )
        if method in ("put", "patch"):  # own row, another merchant's product in the body
            _refused(
                world,
                lambda: getattr(client, method)(
                    api_url("merchant-commission-override-detail", pk=own.pk),
                    {**body, "product": world.b.product.pk},
                    format="json",
                ),
            )

    return case


def merchant_appoint(world: World) -> None:
    body = _refused_programme(
        world,
        lambda: client_for(world.a.staff).post(
            api_url("merchant-distributor-appointment-list"),
            {"user": world.stranger.username, "invite_code": world.b.distributors[0].invite_code},
            format="json",
        ),
    )
    assert body["code"] == "unknown_invite_code"


def merchant_programme_get(world: World) -> None:
    programme_settings_update(merchant=world.b.merchant, recruitment_mode="appointed")
    for store, expected in ((world.a, "everyone"), (world.b, "appointed")):
        response = client_for(store.staff).get(api_url("merchant-programme-settings"))
        assert response.json()["recruitment_mode"] == expected


def merchant_programme_put(world: World) -> None:
    response = client_for(world.b.staff).put(
        api_url("merchant-programme-settings"),
        {"recruitment_mode": "threshold", "spend_threshold": "99.00", "binding_mode": "days"},
        format="json",
    )
    assert response.status_code == 200, response.content
    modes = dict(ProgrammeSettings.objects.values_list("merchant_id", "recruitment_mode"))
    assert modes == {world.b.merchant.pk: "threshold"}


def merchant_tiers(world: World) -> None:
    made = _programme(world)
    response = client_for(world.a.staff).get(api_url("merchant-tier-list"))
    assert _ids(response) == [made["a"]["tier"].pk]


def merchant_tier_create(world: World) -> None:
    response = client_for(world.a.staff).post(
        api_url("merchant-tier-list"),
        {"name": "Gold", "rank": 1, "merchant": world.b.merchant.pk, "conditions": []},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Tier.objects.get(pk=response.json()["id"]).merchant_id == world.a.merchant.pk


def merchant_flags(world: World) -> None:
    made = _programme(world)
    response = client_for(world.a.staff).get(api_url("merchant-fraud-flag-list"))
    assert _ids(response) == [made["a"]["flag"].pk]


def merchant_materials(world: World) -> None:
    a_material, _b_material = _materials(world)
    _list_case("merchant-material-list", lambda w: [a_material.pk])(world)


def merchant_material_create(world: World) -> None:
    response = client_for(world.a.staff).post(
        api_url("merchant-material-list"),
        {"title": "New", "body": "Text", "merchant": world.b.merchant.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Material.objects.get(pk=response.json()["id"]).merchant_id == world.a.merchant.pk


def _merchant_material_case(name: str, method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        _a_material, b_material = _materials(world)
        before = _library(world)
        call = getattr(client_for(world.a.staff), method)
        _refused(world, lambda: call(api_url(name, pk=b_material.pk), {"title": "Taken over"}))
        assert _library(world) == before

    return case


def merchant_bonus_tiers(world: World) -> None:
    own, _other = _bonus_tiers(world)
    assert _ids(client_for(world.a.staff).get(api_url("merchant-bonus-tier-list"))) == [own.pk]


def merchant_bonus_tier_create(world: World) -> None:
    _own, other = _bonus_tiers(world)
    response = client_for(world.a.staff).post(
        api_url("merchant-bonus-tier-list"),
        {"monthly_sales_threshold": "2000.00", "extra_percent": "3.00", "plan": other.plan_id},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = BonusTier.objects.get(pk=response.json()["id"])
    assert (created.merchant_id, created.plan_id) == (
        world.a.merchant.pk,
        world.a.merchant.commission_plan.pk,
    )


def _bonus_tier_detail(method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        _own, other = _bonus_tiers(world)
        client = client_for(world.a.staff)
        _refused(
            world,
            lambda: getattr(client, method)(
                api_url("merchant-bonus-tier-detail", pk=other.pk),
                {"monthly_sales_threshold": "1.00", "extra_percent": "50.00"},
                format="json",
            ),
        )

    return case


def merchant_simulate(world: World) -> None:
    before = world.snapshot()
    response = client_for(world.a.staff).post(
        api_url("merchant-commission-plan-simulate"),
        {"level1_percent": "20.00", "days": 30},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # store A's one completed order (2 × 100.00): level 1 paid 10 % = 20.00, would pay 40.00
    assert body["orders"] == 1
    assert body["levels"][0] == {
        "level": 1,
        "actual": "20.00",
        "proposed": "40.00",
        "difference": "20.00",
    }
    assert world.snapshot() == before


# --- agency mode ------------------------------------------------------------------------------


def _agency(world: World) -> None:
    for store in (world.a, world.b):
        ProgrammeSettings.objects.update_or_create(
            merchant=store.merchant, defaults={"agency_enabled": True}
        )
        if not TierSkuPrice.objects.filter(merchant=store.merchant).exists():
            tier_price_create(
                merchant=store.merchant, tier_id=None, sku_id=store.sku.pk, purchase_price="60.00"
            )


def _agency_snapshot() -> tuple[list, list]:
    return (
        list(DistributorPrice.objects.order_by("id").values()),
        list(TierSkuPrice.objects.order_by("id").values()),
    )


def store_agency_prices(world: World) -> None:
    _agency(world)
    b_seller = world.b.distributors[0].user
    in_b = client_for(b_seller).get(api_url("store-agency-price-list", store=world.b.slug))
    assert [row["sku"] for row in in_b.json()] == [world.b.sku.pk]
    body = _refused(
        world,
        lambda: client_for(b_seller).get(api_url("store-agency-price-list", store=world.a.slug)),
    )
    assert body["code"] == "not_a_distributor"


def store_agency_price_set(world: World) -> None:
    _agency(world)
    seller = client_for(world.a.distributors[0].user)
    url = api_url("store-agency-price-list", store=world.a.slug)
    before = _agency_snapshot()
    response = seller.post(url, {"sku": world.b.sku.pk, "price": "120.00"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_sku"
    assert _agency_snapshot() == before


def store_agency_price_clear(world: World) -> None:
    _agency(world)
    b_price = DistributorPrice.objects.create(
        merchant=world.b.merchant,
        distributor=world.b.distributors[0],
        sku=world.b.sku,
        price="120.00",
    )
    seller = client_for(world.a.distributors[0].user)
    response = seller.delete(
        api_url("store-agency-price-detail", store=world.a.slug, pk=world.b.sku.pk)
    )
    assert response.status_code == 404
    assert DistributorPrice.objects.filter(pk=b_price.pk).exists()


def store_micro_shop(world: World) -> None:
    _agency(world)
    code = world.a.distributors[0].invite_code
    own = client_for(None).get(
        api_url("store-micro-shop-product-list", store=world.a.slug, code=code)
    )
    assert _ids(own) == [world.a.product.pk]
    foreign = client_for(None).get(
        api_url(
            "store-micro-shop-product-list",
            store=world.a.slug,
            code=world.b.distributors[0].invite_code,
        )
    )
    assert foreign.status_code == 404


def merchant_tier_prices(world: World) -> None:
    _agency(world)
    response = client_for(world.a.staff).get(api_url("merchant-tier-price-list"))
    assert _ids(response) == list(
        TierSkuPrice.objects.filter(merchant=world.a.merchant).values_list("id", flat=True)
    )


def merchant_tier_price_create(world: World) -> None:
    _agency(world)
    b_tier = Tier.objects.create(merchant=world.b.merchant, name="Gold", rank=1)
    client = client_for(world.a.staff)
    before = _agency_snapshot()
    for body in (
        {"tier": b_tier.pk, "sku": world.a.sku.pk, "purchase_price": "50.00"},
        {"tier": None, "sku": world.b.sku.pk, "purchase_price": "50.00"},
    ):
        response = client.post(api_url("merchant-tier-price-list"), body, format="json")
        assert response.status_code == 404, response.content
    assert _agency_snapshot() == before


def _tier_price_case(method: str) -> Callable[[World], None]:
    def case(world: World) -> None:
        _agency(world)
        b_row = TierSkuPrice.objects.get(merchant=world.b.merchant)
        client = client_for(world.a.staff)
        url = api_url("merchant-tier-price-detail", pk=b_row.pk)
        before = _agency_snapshot()
        response = getattr(client, method)(url, {"purchase_price": "1.00"}, format="json")
        assert response.status_code == 404
        assert _agency_snapshot() == before
        if method == "patch":  # another merchant's SKU inside the body of one's own row
            a_row = TierSkuPrice.objects.get(merchant=world.a.merchant)
            own = api_url("merchant-tier-price-detail", pk=a_row.pk)
            assert client.patch(own, {"sku": world.b.sku.pk}, format="json").status_code == 404
            assert _agency_snapshot() == before

    return case


# --- finance -----------------------------------------------------------------------------------


def _statement_case(name: str) -> Callable[[World], None]:
    """A distributor sees only their own movements, in their own store; elsewhere they are no
    distributor (404)."""

    def case(world: World) -> None:
        b_child = world.b.distributors[1]
        response = client_for(b_child.user).get(api_url(name, store=world.b.slug))
        assert response.status_code == 200, response.content
        # the child's movements: commission on B's completed order, and (no order) the ¥50 they
        # were funded with and the ¥30 withdrawal they requested (available → being withdrawn)
        if name.endswith("-csv"):
            body = b"".join(response.streaming_content).decode()
            lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1:]
            orders = {line[2] for line in lines}
            without_order = sorted(line[8] for line in lines if not line[2])  # amount
        else:
            rows = response.json()["results"]
            orders = {row["order_number"] for row in rows}
            without_order = sorted(row["amount"] for row in rows if not row["order_number"])
        assert orders == {world.b.completed_order.number, ""}
        assert without_order == ["-30.00", "30.00", "50.00"]
        _distributor_only_case(name)(world)

    return case


def merchant_finance_statement(world: World) -> None:
    body = client_for(world.a.staff).get(api_url("merchant-finance-statement")).json()
    own_orders = {world.a.paid_order.number, world.a.completed_order.number}
    # and, with no order, A's child funded with ¥50 and their ¥30 withdrawal request
    assert {row["order_number"] for row in body["results"]} == own_orders | {""}
    assert sorted(
        (row["kind"], row["merchant_net"]) for row in body["results"] if not row["order_number"]
    ) == [("Adjustment", "-50.00"), ("Withdrawal requested", "0.00")]
    assert body["totals"]["payments_in"] == "300.00"  # A's two paid orders: 200 + 100


def merchant_finance_payable(world: World) -> None:
    body = client_for(world.a.staff).get(api_url("merchant-finance-payable")).json()
    assert sorted(row["distributor_id"] for row in body["results"]) == sorted(
        d.pk for d in world.a.distributors
    )


def merchant_finance_reconciliation(world: World) -> None:
    for store in (world.a, world.b):
        sandbox_record(
            merchant_id=store.merchant.pk, kind="refund", reference=f"RF-{store.slug}",
            amount=Decimal("1.00"),
        )  # fmt: skip
    body = client_for(world.a.staff).get(api_url("merchant-finance-reconciliation")).json()
    references = {row["reference"] for row in body["results"]}
    assert f"RF-{world.a.slug}" in references
    assert f"RF-{world.b.slug}" not in references
    payments = Payment.objects.filter(merchant=world.b.merchant).values_list(
        "out_trade_no", flat=True
    )
    assert not references & set(payments)


CASES: dict[tuple[str, str], Callable[[World], None]] = {
    ("auth-token", "post"): public_token,
    ("merchant-application-create", "post"): public_application,
    ("store-product-list", "get"): store_products,
    ("store-product-detail", "get"): store_product,
    ("store-cart", "get"): store_cart,
    ("store-cart-item-list", "post"): store_cart_add,
    ("store-cart-item-detail", "patch"): _cart_item_case("patch"),
    ("store-cart-item-detail", "delete"): _cart_item_case("delete"),
    ("store-order-list", "get"): store_orders,
    ("store-order-list", "post"): store_order_place,
    ("store-order-detail", "get"): _order_case("store-order-detail", "get"),
    ("store-order-pay", "post"): _order_case("store-order-pay", "post"),
    ("store-order-cancel", "post"): _order_case("store-order-cancel", "post"),
    ("store-order-confirm-receipt", "post"): _order_case("store-order-confirm-receipt", "post"),
    ("store-distributor-join", "post"): store_join,
    ("store-distributor-me", "get"): _distributor_only_case("store-distributor-me"),
    ("store-distributor-team", "get"): _distributor_only_case("store-distributor-team"),
    ("store-distributor-share-links", "get"): _distributor_only_case(
        "store-distributor-share-links"
    ),
    ("store-distributor-earnings", "get"): _distributor_only_case("store-distributor-earnings"),
    ("store-commission-list", "get"): store_commissions,
    ("merchant-product-list", "get"): _list_case(
        "merchant-product-list", lambda w: [w.a.product.pk]
    ),
    ("merchant-product-list", "post"): merchant_product_create,
    ("merchant-product-detail", "get"): _detail_case(
        "merchant-product-detail", "get", lambda w: w.b.product.pk
    ),
    ("merchant-product-detail", "put"): _detail_case(
        "merchant-product-detail", "put", lambda w: w.b.product.pk
    ),
    ("merchant-product-detail", "patch"): _detail_case(
        "merchant-product-detail", "patch", lambda w: w.b.product.pk
    ),
    ("merchant-product-detail", "delete"): _detail_case(
        "merchant-product-detail", "delete", lambda w: w.b.product.pk
    ),
    ("merchant-sku-list", "get"): _list_case("merchant-sku-list", lambda w: [w.a.sku.pk]),
    ("merchant-sku-list", "post"): merchant_sku_create,
    ("merchant-sku-detail", "get"): _detail_case(
        "merchant-sku-detail", "get", lambda w: w.b.sku.pk
    ),
    ("merchant-sku-detail", "put"): _detail_case(
        "merchant-sku-detail", "put", lambda w: w.b.sku.pk
    ),
    ("merchant-sku-detail", "patch"): merchant_sku_patch,
    ("merchant-sku-detail", "delete"): _detail_case(
        "merchant-sku-detail", "delete", lambda w: w.b.sku.pk
    ),
    ("merchant-order-list", "get"): _list_case(
        "merchant-order-list",
        lambda w: [w.a.paid_order.pk, w.a.pending_order.pk, w.a.completed_order.pk],
    ),
    ("merchant-order-detail", "get"): _detail_case(
        "merchant-order-detail", "get", lambda w: w.b.paid_order.pk
    ),
    ("merchant-order-ship", "post"): merchant_ship,
    ("merchant-distributor-list", "get"): _list_case(
        "merchant-distributor-list", lambda w: [d.pk for d in w.a.distributors]
    ),
    ("merchant-distributor-detail", "get"): _detail_case(
        "merchant-distributor-detail", "get", lambda w: w.b.distributors[0].pk
    ),
    ("merchant-commission-list", "get"): _list_case(
        "merchant-commission-list", lambda w: [r.pk for r in reversed(w.a.records)]
    ),
    ("store-refund-list", "get"): store_refunds,
    ("store-refund-list", "post"): store_refund_create,
    ("store-refund-detail", "get"): _store_refund_case("store-refund-detail", "get"),
    ("store-refund-cancel", "post"): _store_refund_case("store-refund-cancel", "post"),
    ("merchant-refund-list", "get"): _list_case(
        "merchant-refund-list",
        lambda w: [w.a.refund.pk],  # type: ignore[union-attr]
    ),
    ("merchant-refund-detail", "get"): _detail_case(
        "merchant-refund-detail",
        "get",
        lambda w: w.b.refund.pk,  # type: ignore[union-attr]
    ),
    ("merchant-refund-approve", "post"): _merchant_refund_case("merchant-refund-approve"),
    ("merchant-refund-reject", "post"): _merchant_refund_case("merchant-refund-reject"),
    ("merchant-commission-plan", "get"): merchant_plan_get,
    ("merchant-commission-plan", "put"): merchant_plan_put,
    ("store-withdrawal-list", "get"): store_withdrawals,
    ("store-withdrawal-list", "post"): store_withdrawal_request,
    ("store-withdrawal-detail", "get"): store_withdrawal,
    ("store-withdrawal-quote", "get"): store_withdrawal_quote,
    ("merchant-withdrawal-list", "get"): _list_case(
        "merchant-withdrawal-list",
        lambda w: [w.a.withdrawal.pk],  # type: ignore[union-attr]
    ),
    ("merchant-withdrawal-detail", "get"): _detail_case(
        "merchant-withdrawal-detail",
        "get",
        lambda w: w.b.withdrawal.pk,  # type: ignore[union-attr]
    ),
    ("merchant-withdrawal-approve", "post"): _detail_case(
        "merchant-withdrawal-approve",
        "post",
        lambda w: w.b.withdrawal.pk,  # type: ignore[union-attr]
    ),
    ("merchant-withdrawal-reject", "post"): _detail_case(
        "merchant-withdrawal-reject",
        "post",
        lambda w: w.b.withdrawal.pk,  # type: ignore[union-attr]
    ),
    ("merchant-withdrawal-settings", "get"): merchant_withdrawal_settings_get,
    ("merchant-withdrawal-settings", "put"): merchant_withdrawal_settings_put,
    ("store-agency-price-list", "get"): store_agency_prices,
    ("store-agency-price-list", "post"): store_agency_price_set,
    ("store-agency-price-detail", "delete"): store_agency_price_clear,
    ("store-micro-shop-product-list", "get"): store_micro_shop,
    ("merchant-tier-price-list", "get"): merchant_tier_prices,
    ("merchant-tier-price-list", "post"): merchant_tier_price_create,
    ("merchant-tier-price-detail", "get"): _tier_price_case("get"),
    ("merchant-tier-price-detail", "put"): _tier_price_case("put"),
    ("merchant-tier-price-detail", "patch"): _tier_price_case("patch"),
    ("merchant-tier-price-detail", "delete"): _tier_price_case("delete"),
    ("store-distributor-application", "get"): store_application_get,
    ("store-distributor-application", "post"): store_application_post,
    ("store-distributor-tier", "get"): _distributor_only_case("store-distributor-tier"),
    ("store-distributor-customers", "get"): _distributor_only_case("store-distributor-customers"),
    ("store-binding-list", "get"): store_binding_get,
    ("store-binding-list", "post"): store_binding_post,
    ("merchant-distributor-application-list", "get"): merchant_applications,
    ("merchant-distributor-application-detail", "get"): _other_merchants_row(
        "merchant-distributor-application-detail", "application", method="get"
    ),
    ("merchant-distributor-application-approve", "post"): _other_merchants_row(
        "merchant-distributor-application-approve", "application"
    ),
    ("merchant-distributor-application-reject", "post"): _other_merchants_row(
        "merchant-distributor-application-reject", "application", {"reason": "No"}
    ),
    ("merchant-distributor-appointment-list", "post"): merchant_appoint,
    ("merchant-programme-settings", "get"): merchant_programme_get,
    ("merchant-programme-settings", "put"): merchant_programme_put,
    ("merchant-tier-list", "get"): merchant_tiers,
    ("merchant-tier-list", "post"): merchant_tier_create,
    ("merchant-tier-detail", "get"): _other_merchants_row(
        "merchant-tier-detail", "tier", method="get"
    ),
    ("merchant-tier-detail", "put"): _other_merchants_row(
        "merchant-tier-detail", "tier", {"name": "Taken", "rank": 9}, method="put"
    ),
    ("merchant-tier-detail", "patch"): _other_merchants_row(
        "merchant-tier-detail", "tier", {"name": "Taken"}, method="patch"
    ),
    ("merchant-tier-detail", "delete"): _other_merchants_row(
        "merchant-tier-detail", "tier", method="delete"
    ),
    ("merchant-fraud-flag-list", "get"): merchant_flags,
    ("merchant-fraud-flag-dismiss", "post"): _other_merchants_row(
        "merchant-fraud-flag-dismiss", "flag"
    ),
    ("merchant-fraud-flag-suspend", "post"): _other_merchants_row(
        "merchant-fraud-flag-suspend", "flag"
    ),
    ("store-distributor-team-members", "get"): _distributor_only_case(
        "store-distributor-team-members"
    ),
    ("store-distributor-leaderboard", "get"): store_leaderboard,
    ("merchant-leaderboard-list", "get"): merchant_leaderboard,
    ("store-material-list", "get"): store_materials,
    ("store-material-detail", "get"): _store_material_case("store-material-detail", "get"),
    ("store-material-read", "post"): _store_material_case("store-material-read", "post"),
    ("merchant-material-list", "get"): merchant_materials,
    ("merchant-material-list", "post"): merchant_material_create,
    ("merchant-material-detail", "get"): _merchant_material_case("merchant-material-detail", "get"),
    ("merchant-material-detail", "put"): _merchant_material_case("merchant-material-detail", "put"),
    ("merchant-material-detail", "patch"): _merchant_material_case(
        "merchant-material-detail", "patch"
    ),
    ("merchant-material-detail", "delete"): _merchant_material_case(
        "merchant-material-detail", "delete"
    ),
    ("merchant-material-reads", "get"): _merchant_material_case("merchant-material-reads", "get"),
    ("merchant-commission-plan-simulate", "post"): merchant_simulate,
    ("merchant-commission-override-list", "get"): merchant_overrides,
    ("merchant-commission-override-list", "post"): merchant_override_create,
    ("merchant-commission-override-detail", "get"): _override_detail("get"),
    ("merchant-commission-override-detail", "put"): _override_detail("put"),
    ("merchant-commission-override-detail", "patch"): _override_detail("patch"),
    ("merchant-commission-override-detail", "delete"): _override_detail("delete"),
    ("merchant-bonus-tier-list", "get"): merchant_bonus_tiers,
    ("merchant-bonus-tier-list", "post"): merchant_bonus_tier_create,
    ("merchant-bonus-tier-detail", "get"): _bonus_tier_detail("get"),
    ("merchant-bonus-tier-detail", "put"): _bonus_tier_detail("put"),
    ("merchant-bonus-tier-detail", "patch"): _bonus_tier_detail("patch"),
    ("merchant-bonus-tier-detail", "delete"): _bonus_tier_detail("delete"),
    ("store-distributor-statement", "get"): _statement_case("store-distributor-statement"),
    ("store-distributor-statement-csv", "get"): _statement_case("store-distributor-statement-csv"),
    ("merchant-finance-statement", "get"): merchant_finance_statement,
    ("merchant-finance-payable", "get"): merchant_finance_payable,
    ("merchant-finance-reconciliation", "get"): merchant_finance_reconciliation,
    **LIVE_CASES,
    **GROUPBUY_CASES,
    **MARKETING_CASES,
}


CASES.update(SUPPLY_CASES)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{name}:{method}" for name, method in ROUTES])
def test_isolation(route: tuple[str, str], world: World) -> None:
    CASES[route](world)
