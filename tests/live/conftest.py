from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.live import presence, services
from apps.live.models import LivePrice, LiveRoom, LiveRoomProduct

from ..factories import ProductFactory, SkuFactory


def make_room(*, merchant, status=LiveRoom.Status.SCHEDULED, **fields) -> LiveRoom:
    room = LiveRoom.objects.create(
        merchant=merchant,
        title=fields.pop("title", "Spring tea live"),
        starts_at=fields.pop("starts_at", timezone.now() + timedelta(hours=1)),
        stream_url=fields.pop("stream_url", "https://streams.example.com/live/tea.m3u8"),
        status=status,
        **fields,
    )
    presence.room_forget(room.pk)
    return room


@pytest.fixture
def room_world(merchant):
    """A room with one product of two SKUs; SKU ``a`` has a live price (¥80 instead of ¥100)."""
    product = ProductFactory(merchant=merchant, name="Longjing")
    sku_a = SkuFactory(product=product, price=Decimal("100.00"), stock=50, name="250 g")
    sku_b = SkuFactory(product=product, price=Decimal("180.00"), stock=50, name="500 g")
    room = make_room(merchant=merchant, banned_words="scam\nfake")
    room_product = LiveRoomProduct.objects.create(merchant=merchant, room=room, product=product)
    LivePrice.objects.create(merchant=merchant, room=room, sku=sku_a, price=Decimal("80.00"))
    yield {
        "room": room,
        "product": product,
        "sku_a": sku_a,
        "sku_b": sku_b,
        "room_product": room_product,
    }
    presence.room_forget(room.pk)


@pytest.fixture
def live_room(room_world):
    """``room_world`` with its room live."""
    services.room_start(room=room_world["room"], actor=None)
    return room_world
