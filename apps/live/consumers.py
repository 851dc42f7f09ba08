"""The live room's WebSocket: one per viewer, ``/ws/s/<store>/live/<room id>/``.

The protocol (every frame is a JSON object with a ``type``) is documented in the README ("Live
rooms"). A frame that is not such an object, has an unknown type or wrong fields closes the
socket with 4400; a frame longer than ``FENXIAO_LIVE_MAX_FRAME_BYTES`` with 4413; an unknown room
(or another store's) with 4404; each close carries a one-line reason in the viewer's language. A
refused action (not signed in, muted, too fast, not the host…) answers
``{"type": "error", "code": …, "message": …}`` and the socket stays open.

Text a socket sends (errors, close reasons) is in the language of the page that opened it: the
language cookie, else the browser's Accept-Language, else the site's default — as Django's
LocaleMiddleware picks it for the page.
"""

import asyncio
import json
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, trans_real

from apps.core.errors import DomainError
from apps.merchants.selectors import merchant_get_active_by_slug
from apps.tenancy.middleware import store_scope
from apps.tenancy.scope import tenant_scope

from . import presence, relay, selectors, services
from .broadcast import room_group, room_message
from .models import LiveRoom

CLOSE_MALFORMED = 4400
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_UNKNOWN_ROOM = 4404
CLOSE_TOO_LARGE = 4413
CLOSE_REASONS = {
    CLOSE_MALFORMED: gettext_lazy("The page sent a message the room does not understand."),
    CLOSE_UNKNOWN_ROOM: gettext_lazy("This live room does not exist."),
    CLOSE_TOO_LARGE: gettext_lazy("The message is too long."),
}
MAX_CLOSE_REASON_BYTES = 123  # the WebSocket protocol's limit (RFC 6455, 5.5)
MAX_LIKES_PER_FRAME = 100
STATS_INTERVAL_SECONDS = 1.0
PRESENCE_REFRESH_SECONDS = 15.0

redis_call = sync_to_async  # Redis-only calls run in the default pool, not the database thread


class Malformed(Exception):
    """The frame breaks the protocol: the socket is closed with 4400."""


class _StatsThrottle:
    """Viewer counts and likes change with every join, leave and tap; each server process sends
    the room's figures at most once a second, and always after the last change."""

    def __init__(self) -> None:
        # Per event loop (a server process has one; tests start many), per room: when the figures
        # were last sent and whether a send is already scheduled.
        self._state: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[int, tuple[float, bool]]
        ] = weakref.WeakKeyDictionary()

    def changed(self, room_id: int) -> None:
        loop = asyncio.get_running_loop()
        rooms = self._state.setdefault(loop, {})
        last, scheduled = rooms.get(room_id, (float("-inf"), False))
        if scheduled:
            return
        rooms[room_id] = (last, True)
        delay = max(0.0, last + STATS_INTERVAL_SECONDS - loop.time())
        loop.call_later(delay, lambda: loop.create_task(self._send(loop, room_id)))

    async def _send(self, loop: asyncio.AbstractEventLoop, room_id: int) -> None:
        self._state.setdefault(loop, {})[room_id] = (loop.time(), False)
        payload = await redis_call(selectors.stats_payload)(room_id)
        await get_channel_layer().group_send(room_group(room_id), room_message(payload))


stats_throttle = _StatsThrottle()


def close_reason(code: int) -> str:
    """The close code's reason in the active language, cut to the protocol's 123 bytes."""
    reason = str(CLOSE_REASONS.get(code, ""))
    encoded = reason.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore")


def handshake_language(scope: dict) -> str:
    """The language of the page that opens the socket: its language cookie, else the browser's
    Accept-Language, else the site's default (LocaleMiddleware's choice, without the path)."""
    cookie_name = settings.LANGUAGE_COOKIE_NAME.encode("latin-1")
    accept = ""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.split(b";"):
                key, _sep, val = part.strip().partition(b"=")
                if key == cookie_name:
                    try:
                        return translation.get_supported_language_variant(val.decode("latin-1"))
                    except LookupError:
                        pass
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    for code, _quality in trans_real.parse_accept_lang_header(accept):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _load_room(slug: str, room_id: int) -> LiveRoom | None:
    merchant = merchant_get_active_by_slug(slug=slug)
    if merchant is None:
        return None
    return selectors.room_for_store(merchant=merchant, room_id=room_id)


class LiveRoomConsumer(AsyncWebsocketConsumer):
    room: LiveRoom | None = None
    membership: relay.Member | None = None
    # No channel of its own (an alias no layer is configured under): the room's events reach the
    # socket through its process's relay of the room (relay.py), not a queue per socket.
    channel_layer_alias = "live-sockets-use-the-room-relay"

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        # The socket's whole life (and the threads it calls) in its page's language.
        self.socket_id = uuid.uuid4().hex  # presence's name for this socket
        with translation.override(handshake_language(scope)):
            await super().__call__(scope, receive, send)

    async def close_with(self, code: int) -> None:
        await self.close(code=code, reason=close_reason(code))

    async def connect(self) -> None:
        # Two hops to the sync thread per connection (a reconnect storm after a restart queues
        # every viewer's handshake on that one thread, and daphne drops a handshake after 5 s).
        kwargs = self.scope["url_route"]["kwargs"]
        self.user = self.scope.get("user")
        self.signed_in = bool(self.user and self.user.is_authenticated)
        found = await self._db(self._find_room)(kwargs["slug"], kwargs["room_id"])
        await self.accept()
        if found is None:
            await self.close_with(CLOSE_UNKNOWN_ROOM)
            return
        self.room, self.is_host = found
        # Joined before the welcome reads the room: nothing sent meanwhile is missed (the relay
        # holds it until the welcome has gone).
        self.membership = await relay.join(self.room.pk, self.base_send)
        self.last_seen = asyncio.get_running_loop().time()
        await self.send_json(await self._db(self._join_and_welcome)())
        await relay.release(self.membership)
        stats_throttle.changed(self.room.pk)

    def _find_room(self, slug: str, room_id: int) -> tuple[LiveRoom, bool] | None:
        room = _load_room(slug, room_id)
        if room is None:
            return None
        return room, selectors.user_is_host(room=room, user=self.user)

    def _join_and_welcome(self) -> dict[str, Any]:
        assert self.room is not None
        presence.viewer_join(room_id=self.room.pk, socket=self.socket_id, viewer=self._viewer_key())
        return self._welcome()

    def _db(self, function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        """``function`` on the database thread, in the store's scope (row-level security): a
        socket is not a request, so no middleware sets it. Once the room is found, the scope of
        its merchant: the socket keeps the store it opened, without looking the store up by its
        slug again for every chat message."""
        slug = self.scope["url_route"]["kwargs"]["slug"]
        merchant_id = self.room.merchant_id if self.room is not None else None

        def run(*args: Any, **kwargs: Any) -> Any:
            scope = (
                store_scope(slug) if merchant_id is None else tenant_scope(merchant_id=merchant_id)
            )
            with scope:
                return function(*args, **kwargs)

        return database_sync_to_async(run)

    def _viewer_key(self) -> str:
        if self.signed_in:
            return f"u{self.user.pk}"
        cookies = {}
        for name, value in self.scope.get("headers", []):
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _sep, val = part.strip().partition("=")
                    cookies[key] = val
        return "a" + (cookies.get("fx_device") or self.socket_id)

    def _welcome(self) -> dict[str, Any]:
        room = self.room
        assert room is not None
        muted = self.signed_in and selectors.user_is_muted(room_id=room.pk, user_id=self.user.pk)
        return {
            "type": "welcome",
            "room": {
                **selectors.status_payload(room),
                "id": room.pk,
                "title": room.title,
                "pinned": selectors.pinned_payload(room=room),
            },
            "you": {
                "user_id": self.user.pk if self.signed_in else None,
                "signed_in": self.signed_in,
                "can_chat": self.signed_in and not muted,
                "muted": muted,
                "is_host": self.is_host,
            },
            "chat": selectors.recent_chat(room_id=room.pk),
            "stats": selectors.stats_payload(room.pk),
            "limits": {
                "chat_max_length": settings.FENXIAO_LIVE_CHAT_MAX_LENGTH,
                "max_frame_bytes": settings.FENXIAO_LIVE_MAX_FRAME_BYTES,
                "max_likes_per_frame": MAX_LIKES_PER_FRAME,
            },
        }

    async def disconnect(self, code: int) -> None:
        if self.membership is None or self.room is None:
            return
        membership, self.membership = self.membership, None
        await relay.leave(self.room.pk, membership)
        await redis_call(presence.viewer_leave)(room_id=self.room.pk, socket=self.socket_id)
        stats_throttle.changed(self.room.pk)

    # --- Frames from the viewer -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.membership is None:
            return
        if text_data is None:
            await self.close_with(CLOSE_MALFORMED)
            return
        if len(text_data.encode("utf-8")) > settings.FENXIAO_LIVE_MAX_FRAME_BYTES:
            await self.close_with(CLOSE_TOO_LARGE)
            return
        try:
            frame = json.loads(text_data)
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise Malformed
            handle = self._handlers().get(frame["type"])
            if handle is None:
                raise Malformed
            await self._seen()
            await handle(frame)
        except (ValueError, Malformed):
            await self.close_with(CLOSE_MALFORMED)
        except DomainError as error:
            await self.send_json({"type": "error", "code": error.code, "message": error.message})

    def _handlers(self) -> dict[str, Callable[[dict], Awaitable[None]]]:
        return {
            "ping": self._on_ping,
            "chat": self._on_chat,
            "like": self._on_like,
            "pin": self._on_pin,
            "unpin": self._on_unpin,
            "delete": self._on_delete,
            "mute": self._on_mute,
            "unmute": self._on_unmute,
        }

    async def _seen(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self.last_seen >= PRESENCE_REFRESH_SECONDS:
            self.last_seen = now
            assert self.room is not None
            await redis_call(presence.viewer_seen)(room_id=self.room.pk, socket=self.socket_id)

    async def _on_ping(self, frame: dict) -> None:
        await self.send_json({"type": "pong"})

    async def _on_chat(self, frame: dict) -> None:
        text = frame.get("text")
        if not isinstance(text, str):
            raise Malformed
        await self._db(services.chat_post)(room=self.room, user=self.user, text=text)

    async def _on_like(self, frame: dict) -> None:
        count = _whole(frame.get("count", 1))
        if not 1 <= count <= MAX_LIKES_PER_FRAME:
            raise Malformed
        assert self.room is not None
        await redis_call(services.likes_add)(room=self.room, user=self.user, count=count)
        stats_throttle.changed(self.room.pk)

    def _require_host(self) -> None:
        if not self.is_host:
            raise DomainError(_("Only the room's host may do this."), code="forbidden")

    async def _on_pin(self, frame: dict) -> None:
        product_id = _whole(frame.get("product_id"))
        self._require_host()
        await self._db(services.room_pin)(
            room=await self._fresh_room(), product_id=product_id, actor=self.user
        )

    async def _on_unpin(self, frame: dict) -> None:
        self._require_host()
        await self._db(services.room_unpin)(room=self.room, actor=self.user)

    async def _on_delete(self, frame: dict) -> None:
        message_id = _whole(frame.get("message_id"))
        self._require_host()
        await self._db(services.chat_delete)(room=self.room, message_id=message_id, actor=self.user)

    async def _on_mute(self, frame: dict) -> None:
        user_id = _whole(frame.get("user_id"))
        self._require_host()
        await self._db(services.user_mute)(room=self.room, user_id=user_id, actor=self.user)

    async def _on_unmute(self, frame: dict) -> None:
        user_id = _whole(frame.get("user_id"))
        self._require_host()
        await self._db(services.user_unmute)(room=self.room, user_id=user_id, actor=self.user)

    async def _fresh_room(self) -> LiveRoom:
        assert self.room is not None
        return await self._db(
            lambda: LiveRoom.objects.select_related("merchant").get(pk=self.room.pk)  # type: ignore[union-attr]
        )()

    # --- Dispatch -------------------------------------------------------------------------------

    async def dispatch(self, message: dict) -> None:
        # Channels' own dispatch first closes stale database connections through sync_to_async:
        # one hop to the process's single sync thread per message and socket (it was nearly all
        # of the fan-out latency when room events came this way). Every handler that touches the
        # database goes through database_sync_to_async, which closes stale connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed
    return value
