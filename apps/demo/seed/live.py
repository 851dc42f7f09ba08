"""A live room of 茗香茶庄 that is live now: two teas in the room, one of them at a live-only
price and pinned, and a few chat messages."""

from datetime import timedelta
from decimal import Decimal

from apps.live.models import LiveChatMessage, LiveRoom
from apps.live.services import live_price_set, room_pin, room_product_add, room_start
from apps.products.models import Product, Sku

from .world import TEA, DemoWorld

# A public HLS test stream (Apple's sample); any HLS address of a streaming service works.
DEMO_STREAM = "https://devstreaming-cdn.apple.com/videos/streaming/examples/img_bipbop_adv_example_fmp4/master.m3u8"


def create_live_room(world: DemoWorld) -> None:
    merchant = world.merchants[TEA]
    room = LiveRoom.objects.create(
        merchant=merchant,
        title="春茶直播：明前龙井开箱",
        description="主播现场冲泡，直播间专享价，仅限直播期间。",
        starts_at=world.now - timedelta(minutes=10),
        stream_url=DEMO_STREAM,
        banned_words="微信号\n加我\n代购",
    )
    products = list(Product.objects.filter(merchant=merchant).order_by("sort_order", "id")[:2])
    for position, product in enumerate(products):
        room_product_add(room=room, product_id=product.pk, position=position)
    first_sku = Sku.objects.filter(product=products[0]).order_by("id").first()
    assert first_sku is not None
    live_price_set(
        room=room,
        sku_id=first_sku.pk,
        price=max(
            first_sku.min_resale_price or Decimal("0.01"), first_sku.price * Decimal("0.8")
        ).quantize(Decimal("0.01")),
    )
    staff = world.users["tea_admin"]
    room_start(room=room, actor=staff)
    room_pin(room=room, product_id=products[0].pk, actor=staff)
    for username, text in (("alice", "今年的龙井香气怎么样？"), ("bob", "直播价太划算了，已下单")):
        LiveChatMessage.objects.create(
            merchant=merchant, room=room, user=world.users[username], text=text
        )
