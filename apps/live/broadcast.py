"""Sending an event to every socket of a room, across all server processes.

Each room is a channel-layer group (Redis pub/sub: one publish per event; the one relay of every
server process with a viewer of the room writes it to that process's sockets, ``relay.py``).
Writes broadcast only once they commit, so a viewer never sees what was rolled back.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def room_group(room_id: int) -> str:
    return f"live.room.{room_id}"


def room_message(event: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message of a room event (``relay.py`` writes ``text`` to the sockets)."""
    return {
        "type": "room.event",
        "kind": event["type"],
        "text": json.dumps(event, ensure_ascii=False),
    }


def room_broadcast(room_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` (a protocol message, README "Live rooms") to the room once the transaction
    commits (at once outside one)."""

    # Serialised once here, not once per socket; ``kind`` tells the relay whether it may wait.
    message = room_message(event)

    def group_send() -> None:
        async_to_sync(get_channel_layer().group_send)(room_group(room_id), message)

    def send() -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: no event loop in this thread
            group_send()
            return
        # Called from code that runs inside an event loop's thread (a sync view under an async
        # caller, a browser-driving test): async_to_sync refuses that thread, so publish from
        # another one and wait for it.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(group_send).result()

    # robust: a room notice that cannot be sent is logged, never undoes or fails the sale.
    transaction.on_commit(send, robust=True)
