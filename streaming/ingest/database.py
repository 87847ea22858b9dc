"""The ingest's database access: ORM calls from its event loop, and the incidents it stores.

The ingest calls `rooms.services` only (rooms owns streams and incidents), always through
`on_database_thread`, never one ORM call straight from a coroutine.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from rooms import services as rooms
from streaming.ingest.live_room import LiveRoom

logger = logging.getLogger("livesite.ingest")


async def on_database_thread(function, *args):
    """Run an ORM call on the shared database thread; a stale connection is replaced first."""

    def call():
        close_old_connections()
        return function(*args)

    return await sync_to_async(call, thread_sensitive=True)()


async def record_incident(live: LiveRoom, kind: str, detail: str) -> None:
    """Store a `StreamIncident` of the room's stream; a failure is logged, never raised."""
    if live.stream_id is None:
        return
    try:
        await on_database_thread(rooms.record_incident, live.stream_id, kind, detail)
    except Exception:
        logger.exception("room %s: could not record an incident", live.slug)
