"""Publishing events to everyone in a room, across every web process.

Each web process keeps one hub per room with viewers on it (chat.hub); the hub
is the only member of the room's channel-layer group from that process. So a
published event crosses Redis once per process, not once per viewer, and the
hub encodes it once and writes the same frame to every local socket.

Services publish after their transaction commits (`publish_on_commit`), never
before, so no viewer ever sees an event whose data was rolled back.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

ROOM_EVENT = "room.event"


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


async def apublish(room_id: int, event: dict) -> None:
    """Send `event` (a protocol frame: a dict with a `type`) to the room's group."""
    message = {"type": ROOM_EVENT, "room": room_id, "event": event}
    await get_channel_layer().group_send(room_group(room_id), message)


def publish(room_id: int, event: dict) -> None:
    async_to_sync(apublish)(room_id, event)


def publish_on_commit(room_id: int, event: dict) -> None:
    """Publish once the surrounding transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: publish(room_id, event))
