"""The group-buy API routes for tests/api/test_isolation.py: another merchant's campaigns, groups
and SKUs act as absent (404) and a refused request writes nothing."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.groupbuy.models import Group, GroupBuy, GroupMember
from apps.groupbuy.services import groupbuy_create
from tests.api.conftest import World, api_url, client_for
from tests.factories import UserFactory

from .conftest import open_paid

SEAT = {
    "quantity": 1,
    "recipient_name": "Li Lei",
    "recipient_phone": "13800000000",
    "shipping_address": "1 Nanjing Road",
}


def _campaigns(world: World) -> tuple[GroupBuy, GroupBuy]:
    now = timezone.now()
    made = [
        groupbuy_create(
            merchant=store.merchant,
            sku=store.sku,
            name="Pair",
            group_price=Decimal("80.00"),
            group_size=2,
            time_limit_hours=24,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
        )
        for store in (world.a, world.b)
    ]
    return made[0], made[1]


def _groups(world: World) -> tuple[Group, Group]:
    a_campaign, b_campaign = _campaigns(world)
    a = open_paid(merchant=world.a.merchant, campaign=a_campaign, customer=UserFactory())
    b = open_paid(merchant=world.b.merchant, campaign=b_campaign, customer=UserFactory())
    return a.group, b.group


def _rows() -> dict[str, list]:
    return {
        "campaigns": list(GroupBuy.objects.order_by("id").values()),
        "groups": list(Group.objects.order_by("id").values()),
        "members": list(GroupMember.objects.order_by("id").values()),
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


def store_group_buys(world: World) -> None:
    a_campaign, _b = _campaigns(world)
    response = client_for(None).get(api_url("store-group-buy-list", store=world.a.slug))
    assert _ids(response) == [a_campaign.pk]


def store_group_buy(world: World) -> None:
    a_group, b_group = _groups(world)
    anonymous = client_for(None)
    url = api_url("store-group-buy-detail", store=world.a.slug, pk=a_group.campaign_id)
    body = anonymous.get(url).json()
    assert [group["id"] for group in body["joinable_groups"]] == [a_group.pk]
    _refused(
        world,
        lambda: anonymous.get(
            api_url("store-group-buy-detail", store=world.a.slug, pk=b_group.campaign_id)
        ),
    )


def store_group_buy_open(world: World) -> None:
    a_campaign, b_campaign = _campaigns(world)
    customer = client_for(world.a.customer)
    _refused(
        world,
        lambda: customer.post(
            api_url("store-group-buy-open", store=world.a.slug, pk=b_campaign.pk),
            SEAT,
            format="json",
        ),
    )
    response = customer.post(
        api_url("store-group-buy-open", store=world.a.slug, pk=a_campaign.pk), SEAT, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["order"]["payable_amount"], body["group"]["status"]) == ("80.00", "pending")


def store_group(world: World) -> None:
    a_group, b_group = _groups(world)
    anonymous = client_for(None)
    body = anonymous.get(api_url("store-group-detail", store=world.a.slug, pk=a_group.pk)).json()
    assert (body["status"], body["seats_left"]) == ("open", 1)
    _refused(
        world,
        lambda: anonymous.get(api_url("store-group-detail", store=world.a.slug, pk=b_group.pk)),
    )


def store_group_join(world: World) -> None:
    a_group, b_group = _groups(world)
    customer = client_for(world.a.customer)
    _refused(
        world,
        lambda: customer.post(
            api_url("store-group-join", store=world.a.slug, pk=b_group.pk), SEAT, format="json"
        ),
    )
    url = api_url("store-group-join", store=world.a.slug, pk=a_group.pk)
    response = customer.post(url, SEAT, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["group"]["seats_left"] == 0
    # The group is full now: the next joiner is told so, and nothing is written.
    refused = _refused(
        world,
        lambda: client_for(world.stranger).post(url, SEAT, format="json"),
        status=409,
    )
    assert refused["code"] == "group_full"


def merchant_group_buys(world: World) -> None:
    a_campaign, _b = _campaigns(world)
    assert _ids(client_for(world.a.staff).get(api_url("merchant-group-buy-list"))) == [
        a_campaign.pk
    ]


def merchant_group_buy_create(world: World) -> None:
    staff = client_for(world.a.staff)
    body = {
        "name": "Trio",
        "sku": world.a.sku.pk,
        "group_price": "70.00",
        "group_size": 3,
        "time_limit_hours": 12,
        "starts_at": "2030-01-01T10:00:00+08:00",
        "ends_at": "2030-01-08T10:00:00+08:00",
        "per_person_limit": 2,
        "merchant": world.b.merchant.pk,
    }
    _refused(
        world,
        lambda: staff.post(
            api_url("merchant-group-buy-list"), {**body, "sku": world.b.sku.pk}, format="json"
        ),
    )
    bad = _refused(
        world,
        lambda: staff.post(
            api_url("merchant-group-buy-list"), {**body, "group_size": 1}, format="json"
        ),
        status=400,
    )
    assert "group_size" in bad
    response = staff.post(api_url("merchant-group-buy-list"), body, format="json")
    assert response.status_code == 201, response.content
    made = GroupBuy.objects.get(pk=response.json()["id"])
    assert (made.merchant_id, made.group_price, made.group_size) == (
        world.a.merchant.pk,
        Decimal("70.00"),
        3,
    )


def merchant_group_buy(world: World) -> None:
    a_campaign, b_campaign = _campaigns(world)
    staff = client_for(world.a.staff)
    url = api_url("merchant-group-buy-detail", pk=a_campaign.pk)
    assert staff.get(url).json()["name"] == "Pair"
    _refused(world, lambda: staff.get(api_url("merchant-group-buy-detail", pk=b_campaign.pk)))


def merchant_groups(world: World) -> None:
    a_group, _b = _groups(world)
    assert _ids(client_for(world.a.staff).get(api_url("merchant-group-list"))) == [a_group.pk]


def merchant_group(world: World) -> None:
    a_group, b_group = _groups(world)
    staff = client_for(world.a.staff)
    assert staff.get(api_url("merchant-group-detail", pk=a_group.pk)).json()["paid_count"] == 1
    _refused(world, lambda: staff.get(api_url("merchant-group-detail", pk=b_group.pk)))


GROUPBUY_CASES: dict[tuple[str, str], Callable[[World], None]] = {
    ("store-group-buy-list", "get"): store_group_buys,
    ("store-group-buy-detail", "get"): store_group_buy,
    ("store-group-buy-open", "post"): store_group_buy_open,
    ("store-group-detail", "get"): store_group,
    ("store-group-join", "post"): store_group_join,
    ("merchant-group-buy-list", "get"): merchant_group_buys,
    ("merchant-group-buy-list", "post"): merchant_group_buy_create,
    ("merchant-group-buy-detail", "get"): merchant_group_buy,
    ("merchant-group-list", "get"): merchant_groups,
    ("merchant-group-detail", "get"): merchant_group,
}
