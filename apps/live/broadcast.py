"""Sending an event to every socket of a room, across all server processes.

Each room is a channel-layer group (Redis pub/sub: one publish per event; every server process
subscribed to the group relays it to its own sockets). Writes broadcast only once they commit, so
a viewer never sees what was rolled back.
"""

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def room_group(room_id: int) -> str:
    return f"live.room.{room_id}"


def room_broadcast(room_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` (a protocol message, README "Live rooms") to the room once the transaction
    commits (at once outside one)."""

    # Serialised once here, not once per socket.
    message = {"type": "room.event", "text": json.dumps(event, ensure_ascii=False)}

    def send() -> None:
        async_to_sync(get_channel_layer().group_send)(room_group(room_id), message)

    transaction.on_commit(send)
