"""The room's relay (apps/live/relay.py): one subscription per room and server process, the room's
events coalesced into one ``batch`` frame per window and socket, pins and status changes at once,
and nothing published while a socket's welcome is read lost or sent ahead of the welcome."""

import asyncio
import json
import time

import pytest
from channels.layers import get_channel_layer

from apps.live import relay
from apps.live.broadcast import room_broadcast, room_group, room_message
from apps.live.consumers import LiveRoomConsumer

from ..factories import UserFactory
from .test_consumers import TIMEOUT, joined, next_of, path_of

pytestmark = pytest.mark.django_db(transaction=True)


def chat(number: int) -> dict:
    return {"type": "chat", "id": number, "user_id": 1, "name": "A*", "text": f"m{number}"}


def stats(likes: int) -> dict:
    return {"type": "stats", "viewers": 1, "peak": 1, "likes": likes}


async def publish(room_id: int, *events: dict) -> None:
    for event in events:
        await get_channel_layer().group_send(room_group(room_id), room_message(event))


def test_a_windows_events_come_in_one_batch_frame_and_a_pin_does_not_wait(live_room, settings):
    settings.FENXIAO_LIVE_BATCH_MILLISECONDS = 30_000  # nothing is sent by the window's end
    room = live_room["room"]

    async def scenario():
        socket, _ = await joined(path_of(room))
        # The first event of a quiet room goes at once, alone: the figures after the join.
        assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "stats"
        await publish(room.pk, chat(1), chat(2), stats(5), chat(3), stats(7))
        assert await socket.receive_nothing(timeout=0.5)  # held for the window
        await publish(room.pk, {"type": "pinned", "product": {"id": 9}})
        # The pin takes what waited ahead of it; of the figures only the latest is left.
        assert await socket.receive_json_from(timeout=TIMEOUT) == {
            "type": "batch",
            "messages": [
                chat(1),
                chat(2),
                stats(7),
                chat(3),
                {"type": "pinned", "product": {"id": 9}},
            ],
        }
        await publish(room.pk, chat(4))
        assert await socket.receive_nothing(timeout=0.5)
        await publish(room.pk, {"type": "status", "status": "ended"})
        assert await socket.receive_json_from(timeout=TIMEOUT) == {
            "type": "batch",
            "messages": [chat(4), {"type": "status", "status": "ended"}],
        }
        await socket.disconnect()

    asyncio.run(scenario())


def test_one_subscription_per_room_and_process_whatever_its_sockets(live_room, monkeypatch):
    room = live_room["room"]
    layer = get_channel_layer()
    calls: list[tuple[str, str]] = []
    for name in ("new_channel", "group_add", "group_discard"):
        original = getattr(layer, name)

        def counted(*args, _name=name, _original=original):
            calls.append((_name, args[0] if args else ""))
            return _original(*args)

        monkeypatch.setattr(layer, name, counted)
    alice = UserFactory(nickname="Alice")

    async def scenario():
        sockets = [(await joined(path_of(room), user))[0] for user in (alice, None, None)]
        assert [name for name, _arg in calls] == ["new_channel", "group_add"]
        assert len(relay.relay_for(room.pk).members) == 3
        await sockets[0].send_json_to({"type": "chat", "text": "one relay"})
        for socket in sockets:
            assert (await next_of(socket, "chat"))["text"] == "one relay"
        for socket in sockets[:2]:
            await socket.disconnect()
        assert [name for name, _arg in calls] == ["new_channel", "group_add"]
        await sockets[2].disconnect()
        # The last socket out unsubscribes the process from the room.
        assert [name for name, _arg in calls] == ["new_channel", "group_add", "group_discard"]
        assert calls[1][1] == calls[2][1] == room_group(room.pk)
        assert relay.relay_for(room.pk) is None
        # A viewer coming back subscribes it again.
        again, _ = await joined(path_of(room))
        assert [name for name, _arg in calls][3:] == ["new_channel", "group_add"]
        await publish(room.pk, chat(1))
        assert await next_of(again, "chat") == chat(1)
        await again.disconnect()

    asyncio.run(scenario())


def test_what_is_published_while_the_welcome_is_read_comes_after_the_welcome(
    live_room, monkeypatch
):
    room = live_room["room"]
    welcome = LiveRoomConsumer._welcome

    def slow_welcome(consumer):
        # An event published (and relayed) after the socket joined, before its welcome goes.
        room_broadcast(room.pk, {"type": "unpinned"})
        time.sleep(0.3)
        return welcome(consumer)

    monkeypatch.setattr(LiveRoomConsumer, "_welcome", slow_welcome)

    async def scenario():
        socket, welcome_frame = await joined(path_of(room))
        assert welcome_frame["room"]["id"] == room.pk
        assert await next_of(socket, "unpinned") == {"type": "unpinned"}
        await socket.disconnect()

    asyncio.run(scenario())


def test_a_batch_frame_joins_serialised_events_without_decoding_them():
    texts = [json.dumps(chat(1)), json.dumps(stats(2))]
    assert json.loads(relay.batch_frame(texts)) == {
        "type": "batch",
        "messages": [chat(1), stats(2)],
    }
    assert relay.batch_frame(texts[:1]) == texts[0]
