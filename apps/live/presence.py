"""Who is watching a room, its peak, unique viewers, likes and the chat rate limit: in Redis.

Nothing of it lives in a server process, so the figures survive a restart and every process of
the site counts the same viewers. Keys (per room id ``R``):

- ``live:R:viewers`` sorted set: one member per open socket (its channel name), scored with the
  time its presence expires; a socket refreshes it with each frame it sends (at least its
  heartbeat), so sockets of a crashed process drop out by themselves after
  ``FENXIAO_LIVE_PRESENCE_SECONDS``;
- ``live:R:who`` hash: socket → viewer key (``u<user id>`` or ``a<device id>``), for the viewer list;
- ``live:R:unique`` set of viewer keys ever seen; ``live:R:peak`` the most sockets at once;
- ``live:R:likes`` the like counter; ``live:R:rate:<user>:<window>`` chat messages in a window.
"""

import time
from dataclasses import dataclass
from functools import cache
from typing import cast

import redis
from django.conf import settings

_JOIN = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local now = redis.call('ZCARD', KEYS[1])
local peak = tonumber(redis.call('GET', KEYS[4]) or '0')
if now > peak then redis.call('SET', KEYS[4], now) end
return now
"""


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@cache
def _join_script():  # type: ignore[no-untyped-def]
    return _client().register_script(_JOIN)


def _key(room_id: int, name: str) -> str:
    return f"live:{room_id}:{name}"


@dataclass(frozen=True)
class RoomStats:
    viewers: int
    peak: int
    unique_viewers: int
    likes: int


def viewer_join(*, room_id: int, socket: str, viewer: str) -> int:
    """Count ``socket`` as watching (``viewer``: who it is); returns the sockets watching now."""
    now = time.time()
    return int(
        _join_script()(
            keys=[
                _key(room_id, "viewers"),
                _key(room_id, "who"),
                _key(room_id, "unique"),
                _key(room_id, "peak"),
            ],
            args=[now + settings.FENXIAO_LIVE_PRESENCE_SECONDS, now, socket, viewer],
        )
    )


def viewer_seen(*, room_id: int, socket: str) -> None:
    """The socket is still there (it sent a frame): move its presence expiry on."""
    expires = time.time() + settings.FENXIAO_LIVE_PRESENCE_SECONDS
    _client().zadd(_key(room_id, "viewers"), {socket: expires}, xx=True)


def viewer_leave(*, room_id: int, socket: str) -> None:
    pipe = _client().pipeline()
    pipe.zrem(_key(room_id, "viewers"), socket)
    pipe.hdel(_key(room_id, "who"), socket)
    pipe.execute()


def likes_add(*, room_id: int, count: int) -> int:
    return int(_client().incrby(_key(room_id, "likes"), count))


def room_stats(room_id: int) -> RoomStats:
    now = time.time()
    pipe = _client().pipeline()
    pipe.zcount(_key(room_id, "viewers"), now, "+inf")
    pipe.get(_key(room_id, "peak"))
    pipe.scard(_key(room_id, "unique"))
    pipe.get(_key(room_id, "likes"))
    viewers, peak, unique, likes = pipe.execute()
    return RoomStats(
        viewers=int(viewers),
        peak=int(peak or 0),
        unique_viewers=int(unique),
        likes=int(likes or 0),
    )


def viewer_user_ids(room_id: int) -> list[int]:
    """Ids of the signed-in users watching now (each once), for the host's viewer list."""
    client = _client()
    # The client does not decode responses, so members and values come back as bytes; the
    # stubs type them as the union of every response shape.
    live = set(
        cast("list[bytes]", client.zrangebyscore(_key(room_id, "viewers"), time.time(), "+inf"))
    )
    if not live:
        return []
    who = cast("list[bytes | None]", client.hmget(_key(room_id, "who"), list(live)))
    ids = {int(key[1:]) for key in who if key and key.startswith(b"u")}
    return sorted(ids)


def chat_allowed(*, room_id: int, user_id: int) -> bool:
    """Count one chat message of the user in the current window; False once over the limit."""
    window = settings.FENXIAO_LIVE_CHAT_WINDOW_SECONDS
    key = _key(room_id, f"rate:{user_id}:{int(time.time()) // window}")
    pipe = _client().pipeline()
    pipe.incr(key)
    pipe.expire(key, window + 1)
    count, _expire = pipe.execute()
    return int(count) <= settings.FENXIAO_LIVE_CHAT_MESSAGES


def room_forget(room_id: int) -> None:
    """Drop every key of the room (tests; a deleted room)."""
    client = _client()
    keys = list(client.scan_iter(match=f"live:{room_id}:*"))
    if keys:
        client.delete(*keys)
