"""The live room's WebSocket, driven with Channels' WebsocketCommunicator: every message type and
permission, the rate limit, the word filter, and bad frames closing only their own socket.

The consumer reads the database from another thread, so these tests commit (transactional_db).
"""

import asyncio
import json
from decimal import Decimal

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from apps.live import presence, services
from apps.live.consumers import CLOSE_REASONS, close_reason, handshake_language
from apps.live.models import LiveChatMessage, LiveMute, LiveRoom
from apps.live.routing import websocket_urlpatterns
from apps.orders.services import order_mark_paid, order_place

from ..factories import MerchantFactory, MerchantStaffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

APP = URLRouter(websocket_urlpatterns)
TIMEOUT = 3


async def open_socket(path: str, user=None):
    communicator = WebsocketCommunicator(APP, path)
    communicator.scope["user"] = user or AnonymousUser()
    connected, _subprotocol = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def joined(path: str, user=None):
    """A socket that received its welcome."""
    communicator = await open_socket(path, user)
    welcome = await communicator.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome"
    return communicator, welcome


async def receive_message(communicator) -> dict:
    """The socket's next message: a ``batch`` frame's messages one by one, in their order."""
    unread = communicator.__dict__.setdefault("unread_messages", [])
    if not unread:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        if frame["type"] != "batch":
            return frame
        assert len(frame["messages"]) >= 2, frame  # one event alone goes as itself
        unread.extend(frame["messages"])
    return unread.pop(0)


async def next_of(communicator, kind: str, also_skip: tuple[str, ...] = ()) -> dict:
    """The next message of ``kind``, skipping the figures (stats) that arrive in between (and
    ``also_skip`` types)."""
    while True:
        message = await receive_message(communicator)
        if message["type"] == kind:
            return message
        assert message["type"] in ("stats", *also_skip), message


async def nothing_but_stats(communicator, wait: float = 0.5) -> None:
    """Nothing but figures arrives within ``wait`` seconds (without timing out a receive, which
    would cancel the consumer)."""
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        unread = communicator.__dict__.get("unread_messages")
        if not unread and await communicator.receive_nothing(timeout=0.05, interval=0.01):
            continue
        message = await receive_message(communicator)
        assert message["type"] == "stats", message


def path_of(room: LiveRoom, slug: str | None = None) -> str:
    return f"/ws/s/{slug or room.merchant.slug}/live/{room.pk}/"


@pytest.fixture
def host(merchant):
    return MerchantStaffFactory(merchant=merchant).user


def test_anonymous_viewer_reads_but_cannot_chat_or_like(live_room):
    room = live_room["room"]
    path = path_of(room)
    speaker = UserFactory(nickname="Alice")

    async def scenario():
        anonymous, welcome = await joined(path)
        assert welcome["you"] == {
            "user_id": None,
            "signed_in": False,
            "can_chat": False,
            "muted": False,
            "is_host": False,
        }
        assert welcome["room"]["status"] == "live"
        assert welcome["room"]["pinned"] is None
        await anonymous.send_json_to({"type": "chat", "text": "hello"})
        assert await next_of(anonymous, "error") == {
            "type": "error",
            "code": "sign_in_required",
            "message": "Sign in to chat.",
        }
        await anonymous.send_json_to({"type": "like", "count": 3})
        error = await next_of(anonymous, "error")
        assert error["code"] == "sign_in_required"
        # It still reads what others say.
        signed_in, _ = await joined(path, speaker)
        await signed_in.send_json_to({"type": "chat", "text": "  hello   everyone "})
        chat = await next_of(anonymous, "chat")
        assert (chat["name"], chat["text"], chat["user_id"]) == ("A*", "hello everyone", speaker.pk)
        await anonymous.disconnect()
        await signed_in.disconnect()

    asyncio.run(scenario())
    assert list(LiveChatMessage.objects.values_list("text", flat=True)) == ["hello everyone"]


def test_chat_reaches_every_viewer_and_the_history_greets_newcomers(live_room):
    room = live_room["room"]
    path = path_of(room)
    alice, bob = UserFactory(nickname="Alice"), UserFactory(nickname="Bob")

    async def scenario():
        a, _ = await joined(path, alice)
        b, _ = await joined(path, bob)
        await a.send_json_to({"type": "chat", "text": "is the 250 g fresh?"})
        for socket in (a, b):
            assert (await next_of(socket, "chat"))["text"] == "is the 250 g fresh?"
        late, welcome = await joined(path)
        assert [m["text"] for m in welcome["chat"]] == ["is the 250 g fresh?"]
        for socket in (a, b, late):
            await socket.disconnect()

    asyncio.run(scenario())


def test_length_limit_word_filter_and_empty_messages_are_refused(live_room, settings):
    settings.FENXIAO_LIVE_CHAT_MAX_LENGTH = 10
    room = live_room["room"]
    path = path_of(room)
    alice = UserFactory()

    async def scenario():
        a, _ = await joined(path, alice)
        watcher, _ = await joined(path)
        await a.send_json_to({"type": "chat", "text": "x" * 11})
        assert (await next_of(a, "error"))["code"] == "message_too_long"
        await a.send_json_to({"type": "chat", "text": "A SCAM!"})
        assert (await next_of(a, "error"))["code"] == "banned_word"
        await a.send_json_to({"type": "chat", "text": "   "})
        assert (await next_of(a, "error"))["code"] == "empty_message"
        await nothing_but_stats(watcher)
        await a.send_json_to({"type": "chat", "text": "x" * 10})
        assert (await next_of(watcher, "chat"))["text"] == "x" * 10
        await a.disconnect()
        await watcher.disconnect()

    asyncio.run(scenario())
    assert LiveChatMessage.objects.count() == 1


def test_chat_rate_limit_per_user(live_room, settings):
    settings.FENXIAO_LIVE_CHAT_MESSAGES = 2
    settings.FENXIAO_LIVE_CHAT_WINDOW_SECONDS = 60
    room = live_room["room"]
    path = path_of(room)
    alice, bob = UserFactory(), UserFactory()

    async def scenario():
        a, _ = await joined(path, alice)
        b, _ = await joined(path, bob)
        for text in ("one", "two"):
            await a.send_json_to({"type": "chat", "text": text})
            assert (await next_of(a, "chat"))["text"] == text
        await a.send_json_to({"type": "chat", "text": "three"})
        error = await next_of(a, "error")
        assert error["code"] == "rate_limited"
        # Another user has their own allowance.
        assert [(await next_of(b, "chat"))["text"] for _ in range(2)] == ["one", "two"]
        await b.send_json_to({"type": "chat", "text": "mine"})
        assert (await next_of(b, "chat"))["text"] == "mine"
        await a.disconnect()
        await b.disconnect()

    asyncio.run(scenario())
    assert sorted(LiveChatMessage.objects.values_list("text", flat=True)) == ["mine", "one", "two"]


def test_host_mutes_a_user_who_then_cannot_chat_and_unmutes(live_room, host):
    room = live_room["room"]
    path = path_of(room)
    troll = UserFactory()

    async def scenario():
        h, welcome = await joined(path, host)
        assert welcome["you"]["is_host"] is True
        t, _ = await joined(path, troll)
        await h.send_json_to({"type": "mute", "user_id": troll.pk})
        assert await next_of(t, "muted") == {"type": "muted", "user_id": troll.pk}
        await t.send_json_to({"type": "chat", "text": "spam"})
        assert (await next_of(t, "error"))["code"] == "muted"
        # A new socket of the muted user is told it cannot chat.
        again, welcome_again = await joined(path, troll)
        assert (welcome_again["you"]["muted"], welcome_again["you"]["can_chat"]) == (True, False)
        await h.send_json_to({"type": "unmute", "user_id": troll.pk})
        assert await next_of(t, "unmuted") == {"type": "unmuted", "user_id": troll.pk}
        await t.send_json_to({"type": "chat", "text": "sorry"})
        assert (await next_of(h, "chat", also_skip=("muted", "unmuted")))["text"] == "sorry"
        for socket in (h, t, again):
            await socket.disconnect()

    asyncio.run(scenario())
    assert LiveMute.objects.count() == 0
    assert list(LiveChatMessage.objects.values_list("text", flat=True)) == ["sorry"]


def test_host_deletes_a_message_for_everyone(live_room, host):
    room = live_room["room"]
    path = path_of(room)
    alice = UserFactory()

    async def scenario():
        h, _ = await joined(path, host)
        a, _ = await joined(path, alice)
        await a.send_json_to({"type": "chat", "text": "buy elsewhere"})
        message_id = (await next_of(h, "chat"))["id"]
        await h.send_json_to({"type": "delete", "message_id": message_id})
        assert await next_of(a, "chat_deleted", also_skip=("chat",)) == {
            "type": "chat_deleted",
            "id": message_id,
        }
        newcomer, welcome = await joined(path)
        assert welcome["chat"] == []
        for socket in (h, a, newcomer):
            await socket.disconnect()

    asyncio.run(scenario())
    assert LiveChatMessage.objects.get().deleted_by == host


def test_only_the_rooms_host_may_pin_mute_or_delete(live_room):
    room = live_room["room"]
    path = path_of(room)
    other_staff = MerchantStaffFactory(merchant=MerchantFactory()).user
    viewer = UserFactory()
    product_id = live_room["product"].pk

    async def scenario():
        for user in (other_staff, viewer):
            socket, welcome = await joined(path, user)
            assert welcome["you"]["is_host"] is False
            for frame in (
                {"type": "pin", "product_id": product_id},
                {"type": "unpin"},
                {"type": "mute", "user_id": viewer.pk},
                {"type": "unmute", "user_id": viewer.pk},
                {"type": "delete", "message_id": 1},
            ):
                await socket.send_json_to(frame)
                assert await next_of(socket, "error") == {
                    "type": "error",
                    "code": "forbidden",
                    "message": "Only the room's host may do this.",
                }
            await socket.disconnect()

    asyncio.run(scenario())
    room.refresh_from_db()
    assert room.pinned_id is None
    assert LiveMute.objects.count() == 0


def test_host_pins_a_product_with_its_live_price_and_unpins_it(live_room, host):
    room = live_room["room"]
    path = path_of(room)
    product = live_room["product"]
    sku_a, sku_b = live_room["sku_a"], live_room["sku_b"]

    async def scenario():
        h, _ = await joined(path, host)
        viewer, _ = await joined(path)
        await h.send_json_to({"type": "pin", "product_id": product.pk})
        pinned = await next_of(viewer, "pinned")
        assert pinned["product"]["id"] == product.pk
        assert pinned["product"]["name"] == "Longjing"
        assert [(s["id"], s["price"], s["live_price"]) for s in pinned["product"]["skus"]] == [
            (sku_a.pk, "100.00", "80.00"),
            (sku_b.pk, "180.00", None),
        ]
        late, welcome = await joined(path)
        assert welcome["room"]["pinned"]["id"] == product.pk
        await h.send_json_to({"type": "pin", "product_id": 999999})
        assert (await next_of(h, "error", also_skip=("pinned",)))["code"] == "unknown_product"
        await h.send_json_to({"type": "unpin"})
        assert await next_of(viewer, "unpinned") == {"type": "unpinned"}
        for socket in (h, viewer, late):
            await socket.disconnect()

    asyncio.run(scenario())
    room.refresh_from_db()
    assert room.pinned_id is None


def test_likes_are_aggregated_and_viewer_counts_follow_joins_and_leaves(live_room):
    room = live_room["room"]
    path = path_of(room)
    alice = UserFactory()

    async def scenario():
        a, welcome = await joined(path, alice)
        assert welcome["stats"] == {"type": "stats", "viewers": 1, "peak": 1, "likes": 0}
        b, _ = await joined(path)
        stats = await next_of(a, "stats")
        while stats["viewers"] != 2:
            stats = await next_of(a, "stats")
        assert stats == {"type": "stats", "viewers": 2, "peak": 2, "likes": 0}
        await a.send_json_to({"type": "like", "count": 7})
        await a.send_json_to({"type": "like", "count": 5})
        stats = await next_of(b, "stats")
        while stats["likes"] != 12:
            stats = await next_of(b, "stats")
        assert stats == {"type": "stats", "viewers": 2, "peak": 2, "likes": 12}
        await b.disconnect()
        stats = await next_of(a, "stats")
        while stats["viewers"] != 1:
            stats = await next_of(a, "stats")
        assert stats == {"type": "stats", "viewers": 1, "peak": 2, "likes": 12}
        await a.disconnect()

    asyncio.run(scenario())
    assert presence.room_stats(room.pk) == presence.RoomStats(
        viewers=0, peak=2, unique_viewers=2, likes=12
    )


def test_ping_answers_pong(live_room):
    path = path_of(live_room["room"])

    async def scenario():
        socket, _ = await joined(path)
        await socket.send_json_to({"type": "ping"})
        assert await next_of(socket, "pong") == {"type": "pong"}
        await socket.disconnect()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", 4400),
        ("[1, 2]", 4400),
        ('{"no": "type"}', 4400),
        ('{"type": "dance"}', 4400),
        ('{"type": "chat", "text": 5}', 4400),
        ('{"type": "like", "count": 0}', 4400),
        ('{"type": "like", "count": 101}', 4400),
        ('{"type": "pin", "product_id": "1"}', 4400),
        (json.dumps({"type": "chat", "text": "x" * 3000}), 4413),
    ],
)
def test_a_bad_frame_closes_that_socket_only(live_room, frame, code):
    path = path_of(live_room["room"])
    alice, bob = UserFactory(), UserFactory()

    async def scenario():
        bad, _ = await joined(path, alice)
        good, _ = await joined(path, bob)
        await bad.send_to(text_data=frame)
        while True:
            output = await bad.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                break
        assert output == {"type": "websocket.close", "code": code, "reason": close_reason(code)}
        await good.send_json_to({"type": "chat", "text": "still here"})
        assert (await next_of(good, "chat"))["text"] == "still here"
        await good.disconnect()

    asyncio.run(scenario())


def test_binary_frames_close_the_socket(live_room):
    path = path_of(live_room["room"])

    async def scenario():
        socket, _ = await joined(path)
        await socket.send_to(bytes_data=b"\x00\x01")
        while True:
            output = await socket.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                break
        assert output["code"] == 4400

    asyncio.run(scenario())


def test_an_unknown_room_or_another_stores_room_closes_with_4404(live_room, other_merchant):
    room = live_room["room"]
    paths = [path_of(room, slug=other_merchant.slug), f"/ws/s/{room.merchant.slug}/live/999999/"]

    async def scenario():
        for path in paths:
            socket = await open_socket(path)
            output = await socket.receive_output(timeout=TIMEOUT)
            assert output == {
                "type": "websocket.close",
                "code": 4404,
                "reason": "This live room does not exist.",
            }

    asyncio.run(scenario())


def test_status_changes_and_purchases_reach_the_room(live_room, host, recipient):
    room = live_room["room"]
    path = path_of(room)
    buyer = UserFactory(nickname="Carol")
    sku_a = live_room["sku_a"]

    async def scenario():
        viewer, _ = await joined(path)
        order = await asyncio.to_thread(
            lambda: services.live_order_place(
                merchant=room.merchant,
                room_id=room.pk,
                customer=buyer,
                lines=[(sku_a.pk, 2)],
                recipient=recipient,
            )
        )

        def pay() -> None:
            with transaction.atomic():
                order_mark_paid(order=order)

        await asyncio.to_thread(pay)
        assert await next_of(viewer, "purchase") == {
            "type": "purchase",
            "name": "C*",
            "product": "Longjing",
            "quantity": 2,
        }
        await asyncio.to_thread(lambda: services.room_end(room=room, actor=host))
        status = await next_of(viewer, "status")
        assert (status["type"], status["status"]) == ("status", "ended")
        await viewer.disconnect()

    asyncio.run(scenario())


def test_orders_not_from_a_room_announce_nothing(live_room, recipient):
    path = path_of(live_room["room"])
    merchant = live_room["room"].merchant

    async def scenario():
        viewer, _ = await joined(path)

        def buy_and_pay() -> None:
            order = order_place(
                merchant=merchant,
                customer=UserFactory(),
                lines=[(live_room["sku_a"].pk, 1)],
                recipient=recipient,
            )
            assert order.payable_amount == Decimal("100.00")
            with transaction.atomic():
                order_mark_paid(order=order)

        await asyncio.to_thread(buy_and_pay)
        await nothing_but_stats(viewer)
        await viewer.disconnect()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("headers", "language"),
    [
        ([(b"cookie", b"a=b; django_language=en")], "en"),
        ([(b"cookie", b"django_language=zh-hans"), (b"accept-language", b"en")], "zh-hans"),
        ([(b"accept-language", b"zh-CN,zh;q=0.9,en;q=0.8")], "zh-hans"),
        ([(b"accept-language", b"fr, en;q=0.5")], "en"),
        ([(b"cookie", b"django_language=xx"), (b"accept-language", b"zh")], "zh-hans"),
        ([], "en"),  # the test settings' default
    ],
)
def test_a_socket_speaks_its_pages_language(headers, language):
    assert handshake_language({"headers": headers}) == language


def test_errors_and_close_reasons_come_in_the_pages_language(live_room):
    path = path_of(live_room["room"])

    async def scenario():
        communicator = WebsocketCommunicator(
            APP, path, headers=[(b"cookie", b"django_language=zh-hans")]
        )
        communicator.scope["user"] = AnonymousUser()
        assert (await communicator.connect(timeout=TIMEOUT))[0]
        assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "welcome"
        await communicator.send_json_to({"type": "chat", "text": "hi"})
        error = await next_of(communicator, "error")
        assert (error["code"], error["message"]) == ("sign_in_required", "登录后才能聊天。")
        await communicator.send_to(text_data="not json")
        while True:
            output = await communicator.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                break
        assert (output["code"], output["reason"]) == (4400, "页面发送了直播间无法识别的消息。")

    asyncio.run(scenario())


def test_close_reasons_fit_the_protocols_123_bytes_in_every_language():
    from django.conf import settings
    from django.utils import translation

    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code in CLOSE_REASONS:
                reason = close_reason(code)
                assert reason and len(reason.encode("utf-8")) <= 123, (language, code)


def test_room_events_reach_the_socket_without_a_hop_to_the_sync_thread(live_room, monkeypatch):
    """Fan-out: a room event is relayed straight to the socket. Channels' dispatch would first
    close stale database connections through sync_to_async (one hop to the process's single sync
    thread per event and socket), which at thousands of viewers was nearly all the latency; the
    consumer's database work closes them itself (database_sync_to_async)."""
    import channels.consumer
    from channels.layers import get_channel_layer

    from apps.live.broadcast import room_group

    hops = []
    original = channels.consumer.aclose_old_connections

    async def counted():
        hops.append(1)
        await original()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    path = path_of(live_room["room"])

    async def scenario():
        socket, _ = await joined(path)
        before = len(hops)
        for number in range(5):
            await get_channel_layer().group_send(
                room_group(live_room["room"].pk),
                {"type": "room.event", "text": json.dumps({"type": "unpinned", "n": number})},
            )
        for number in range(5):
            assert (await next_of(socket, "unpinned"))["n"] == number
        await socket.send_json_to({"type": "ping"})
        await next_of(socket, "pong")
        assert len(hops) == before == 0
        await socket.disconnect()

    asyncio.run(scenario())
