"""One relay per room and server process: it receives the room's events and writes them, coalesced,
to this process's sockets of the room.

The channel layer (Redis pub/sub) delivers a room event once to every server process that has a
viewer of the room: the relay is that process's one subscriber. Queueing every event on every
socket's own channel and waking one task per socket to take it, as a group of sockets would, cost
per delivery what the relay costs per event; at thousands of viewers that was the whole latency
(bench/README.md, ``live_room.py``).

Coalescing: the events of a window of ``FENXIAO_LIVE_BATCH_MILLISECONDS`` go to every socket as
one frame, ``{"type": "batch", "messages": [...]}`` in the order they came (one event alone goes as
itself), so 20 chat messages a second become at most 1000 / window frames per socket. The first
event after a quiet window goes at once. Only the latest ``stats`` of a window is kept. Pins,
unpins and status changes (``AT_ONCE``) do not wait: they go at once, with whatever is pending
ahead of them, so the order stays the order of the room.

A socket joins before its welcome is read (nothing published meanwhile is missed) but receives
frames only after its welcome: until ``release`` they are held for it.
"""

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from .broadcast import room_group

logger = logging.getLogger(__name__)

AT_ONCE = frozenset({"pinned", "unpinned", "status"})

AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]


class Member:
    """One socket of the room in this process: its ASGI ``send``, and the frames held for it
    until its welcome has gone (``None`` once released)."""

    __slots__ = ("held", "send")

    def __init__(self, send: AsgiSend) -> None:
        self.send = send
        self.held: list[dict[str, Any]] | None = []


class RoomRelay:
    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.members: set[Member] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending: list[str] = []
        self._stats_at: int | None = None  # index of the pending stats, replaced by a newer one
        self._urgent = False
        self._wake = asyncio.Event()
        self._last_flush = float("-inf")
        self._channel: str | None = None
        self._tasks = [
            asyncio.ensure_future(self._receive()),
            asyncio.ensure_future(self._write()),
        ]

    async def _receive(self) -> None:
        layer = get_channel_layer()
        assert layer is not None
        try:
            self._channel = await layer.new_channel()
            await layer.group_add(room_group(self.room_id), self._channel)
        except BaseException as error:
            if not self.ready.done():
                self.ready.set_exception(error)
            raise
        self.ready.set_result(None)
        while True:
            message = await layer.receive(self._channel)
            self.add(message["text"], message.get("kind", ""))

    def add(self, text: str, kind: str) -> None:
        if kind == "stats" and self._stats_at is not None:
            self._pending[self._stats_at] = text
        else:
            if kind == "stats":
                self._stats_at = len(self._pending)
            self._pending.append(text)
        if kind in AT_ONCE:
            self._urgent = True
        self._wake.set()

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            window = settings.FENXIAO_LIVE_BATCH_MILLISECONDS / 1000
            while not self._urgent and (left := self._last_flush + window - loop.time()) > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), left)
                except TimeoutError:
                    break
            self._wake.clear()
            texts, self._pending, self._stats_at, self._urgent = self._pending, [], None, False
            if not texts:
                continue
            self._last_flush = loop.time()
            await self._send_all(
                {"type": "websocket.send", "text": batch_frame(texts)}  # one per flush, shared
            )

    async def _send_all(self, message: dict[str, Any]) -> None:
        for member in list(self.members):
            if member.held is not None:
                member.held.append(message)
                continue
            try:
                await member.send(message)
            except Exception:  # one broken socket never stops the room's others
                logger.exception("live room %s: a frame could not be sent", self.room_id)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._channel is not None:
            layer = get_channel_layer()
            assert layer is not None
            await layer.group_discard(room_group(self.room_id), self._channel)


def batch_frame(texts: list[str]) -> str:
    """The frame for events already serialised (``broadcast.py``): one alone as itself, several as
    a ``batch``, joined as text without decoding them again."""
    if len(texts) == 1:
        return texts[0]
    return '{"type": "batch", "messages": [' + ", ".join(texts) + "]}"


# Per event loop (a server process has one; tests start many), per room id.
_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, RoomRelay]] = (
    weakref.WeakKeyDictionary()
)


def relay_for(room_id: int) -> RoomRelay | None:
    """This process's relay of the room, if one of its sockets watches it."""
    return _relays.get(asyncio.get_running_loop(), {}).get(room_id)


async def join(room_id: int, send: AsgiSend) -> Member:
    """Add a socket (its ASGI ``send``) to the room in this process, subscribing the process to
    the room when it is the first; returns once subscribed. Frames are held until ``release``."""
    relays = _relays.setdefault(asyncio.get_running_loop(), {})
    relay = relays.get(room_id)
    if relay is None:
        relay = relays[room_id] = RoomRelay(room_id)
    member = Member(send)
    relay.members.add(member)
    try:
        await asyncio.shield(relay.ready)
    except BaseException:
        await leave(room_id, member)
        raise
    return member


async def release(member: Member) -> None:
    """The socket's welcome has gone: send what was held for it, then frames as they come."""
    while member.held:
        await member.send(member.held.pop(0))
    member.held = None


async def leave(room_id: int, member: Member) -> None:
    """Take the socket out; the last one out unsubscribes the process from the room."""
    relays = _relays.get(asyncio.get_running_loop(), {})
    relay = relays.get(room_id)
    if relay is None:
        return
    relay.members.discard(member)
    if not relay.members:
        del relays[room_id]
        await relay.close()
