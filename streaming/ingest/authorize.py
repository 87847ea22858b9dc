"""Who may publish to which room, for RTMP and WHIP alike, and the room's live lock.

A publish is accepted for a known stream key only when `rooms.services.may_publish`
allows the room (owner active and a broadcaster, no staff revocation or stop, no site
ban, room started). The first publish of a room must also take its live lock: one
publisher per room across every ingest process (live_lock.py). A refusal is a
`PublishRefused` (errors.py), which each protocol answers in its own way.
"""

from __future__ import annotations

import secrets

from rooms import services as rooms
from streaming.ingest.database import on_database_thread
from streaming.ingest.errors import PublishRefused
from streaming.ingest.lock_keeper import LockKeeper


async def room_for_publish(stream_key: str):
    """The room this key publishes to, if it may go live now (any protocol)."""
    room = await on_database_thread(rooms.room_for_publish_credential, stream_key)
    if room is None:
        raise PublishRefused(PublishRefused.UNKNOWN_KEY, "unknown stream key")
    # The one place the ingest asks whether a room may go live, for RTMP and WHIP.
    refusal = await on_database_thread(rooms.may_publish, room)
    if refusal is not None:
        raise PublishRefused(PublishRefused.NOT_ALLOWED, f"{refusal.code}: {refusal.reason}")
    return room


async def take_live_lock(lock: LockKeeper, room) -> tuple[str, int]:
    """(token, fencing token) of the room's live lock, now held by this ingest."""
    token = secrets.token_hex(16)
    fence = await lock.acquire(room.pk, token)
    if not fence:
        raise PublishRefused(
            PublishRefused.ALREADY_LIVE, "this room is already live from another ingest"
        )
    return token, fence
