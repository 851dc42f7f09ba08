"""The live rooms' API routes for tests/api/test_isolation.py: another merchant's rooms, products,
SKUs and users act as absent (404) and a refused request writes nothing."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from apps.live.models import LiveMute, LivePrice, LiveRoom, LiveRoomProduct
from tests.api.conftest import World, api_url, client_for

from .conftest import make_room


def _rooms(world: World) -> tuple[LiveRoom, LiveRoom]:
    rooms = []
    for store in (world.a, world.b):
        room = make_room(merchant=store.merchant, status=LiveRoom.Status.LIVE)
        LiveRoomProduct.objects.create(merchant=store.merchant, room=room, product=store.product)
        LivePrice.objects.create(
            merchant=store.merchant, room=room, sku=store.sku, price=Decimal("90.00")
        )
        rooms.append(room)
    return rooms[0], rooms[1]


def _live_rows() -> dict[str, list]:
    return {
        "rooms": list(LiveRoom.objects.order_by("id").values()),
        "products": list(LiveRoomProduct.objects.order_by("id").values()),
        "prices": list(LivePrice.objects.order_by("id").values()),
        "mutes": list(LiveMute.objects.order_by("id").values()),
    }


def _refused(world: World, call: Callable[[], Any]) -> dict:
    before, live_before = world.snapshot(), _live_rows()
    response = call()
    assert response.status_code == 404, response.content
    assert world.snapshot() == before
    assert _live_rows() == live_before
    return response.json() if response.content else {}


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    body = response.json()
    return [row["id"] for row in body["results"]]


def store_rooms(world: World) -> None:
    a_room, _b_room = _rooms(world)
    response = client_for(None).get(api_url("store-live-room-list", store=world.a.slug))
    assert _ids(response) == [a_room.pk]


def store_room(world: World) -> None:
    a_room, b_room = _rooms(world)
    anonymous = client_for(None)
    url = api_url("store-live-room-detail", store=world.a.slug, pk=a_room.pk)
    assert anonymous.get(url).json()["socket"] == f"/ws/s/{world.a.slug}/live/{a_room.pk}/"
    _refused(
        world,
        lambda: anonymous.get(api_url("store-live-room-detail", store=world.a.slug, pk=b_room.pk)),
    )


def store_room_order(world: World) -> None:
    a_room, b_room = _rooms(world)
    customer = client_for(world.a.customer)
    body = {
        "recipient_name": "Li Lei",
        "recipient_phone": "13800000000",
        "shipping_address": "1 Nanjing Road",
        "lines": [{"sku": world.a.sku.pk, "quantity": 1}],
    }
    # Another store's room, and another store's SKU inside the body, act as absent.
    _refused(
        world,
        lambda: customer.post(
            api_url("store-live-room-place-order", store=world.a.slug, pk=b_room.pk),
            body,
            format="json",
        ),
    )
    _refused(
        world,
        lambda: customer.post(
            api_url("store-live-room-place-order", store=world.a.slug, pk=a_room.pk),
            {**body, "lines": [{"sku": world.b.sku.pk, "quantity": 1}]},
            format="json",
        ),
    )
    response = customer.post(
        api_url("store-live-room-place-order", store=world.a.slug, pk=a_room.pk),
        {**body, "expected_total": "90.00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["payable_amount"] == "90.00"


def merchant_rooms(world: World) -> None:
    a_room, _b_room = _rooms(world)
    assert _ids(client_for(world.a.staff).get(api_url("merchant-live-room-list"))) == [a_room.pk]


def merchant_room_create(world: World) -> None:
    response = client_for(world.a.staff).post(
        api_url("merchant-live-room-list"),
        {
            "title": "Evening live",
            "starts_at": "2030-01-01T20:00:00+08:00",
            "stream_url": "https://streams.example.com/evening.m3u8",
            "merchant": world.b.merchant.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    room = LiveRoom.objects.get(pk=response.json()["id"])
    assert (room.merchant_id, room.status) == (world.a.merchant.pk, "scheduled")


def other_merchants_room(name: str, method: str, body: dict | None = None) -> Callable:
    def case(world: World) -> None:
        _a_room, b_room = _rooms(world)
        call = getattr(client_for(world.a.staff), method)
        _refused(world, lambda: call(api_url(name, pk=b_room.pk), body or {}, format="json"))

    return case


def other_merchants_row_in_body(name: str, body: Callable[[World], dict]) -> Callable:
    """Staff of A acting on their own room with B's product, SKU or … in the body."""

    def case(world: World) -> None:
        other_merchants_room(name, "post", body(world))(world)
        a_room = LiveRoom.objects.filter(merchant=world.a.merchant).get()
        _refused(
            world,
            lambda: client_for(world.a.staff).post(
                api_url(name, pk=a_room.pk), body(world), format="json"
            ),
        )

    return case


LIVE_CASES: dict[tuple[str, str], Callable[[World], None]] = {
    ("store-live-room-list", "get"): store_rooms,
    ("store-live-room-detail", "get"): store_room,
    ("store-live-room-place-order", "post"): store_room_order,
    ("merchant-live-room-list", "get"): merchant_rooms,
    ("merchant-live-room-list", "post"): merchant_room_create,
    ("merchant-live-room-detail", "get"): other_merchants_room("merchant-live-room-detail", "get"),
    ("merchant-live-room-detail", "put"): other_merchants_room(
        "merchant-live-room-detail", "put", {"title": "Taken over"}
    ),
    ("merchant-live-room-detail", "patch"): other_merchants_room(
        "merchant-live-room-detail", "patch", {"title": "Taken over"}
    ),
    ("merchant-live-room-start", "post"): other_merchants_room("merchant-live-room-start", "post"),
    ("merchant-live-room-end", "post"): other_merchants_room("merchant-live-room-end", "post"),
    ("merchant-live-room-unpin", "post"): other_merchants_room("merchant-live-room-unpin", "post"),
    ("merchant-live-room-figures", "get"): other_merchants_room(
        "merchant-live-room-figures", "get"
    ),
    ("merchant-live-room-pin", "post"): other_merchants_row_in_body(
        "merchant-live-room-pin", lambda world: {"product": world.b.product.pk}
    ),
    ("merchant-live-room-add-product", "post"): other_merchants_row_in_body(
        "merchant-live-room-add-product", lambda world: {"product": world.b.product.pk}
    ),
    ("merchant-live-room-set-price", "post"): other_merchants_row_in_body(
        "merchant-live-room-set-price", lambda world: {"sku": world.b.sku.pk, "price": "80.00"}
    ),
    ("merchant-live-room-mute", "post"): other_merchants_room(
        "merchant-live-room-mute", "post", {"user": 1}
    ),
}
