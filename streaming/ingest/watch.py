"""The watch over the rooms an ingest holds: rotated keys, stops, sanctions, live locks.

Sanctions and key rotation reach a live publisher by polling: every
`key_check_interval` one query reads the key hash and the publishing rule for every
room this process holds (`rooms.services.publish_states`); a publisher whose room has
a different hash than the one it authorized with is dropped, and the stream of a room
that was stopped, deleted, barred from going live, or whose stream ended in the
database behind our back (its stream id no longer the one we opened) is ended. We
chose polling over a channel-layer group because it works the same on every install
(the in-memory channel layer of the one-machine install does not cross processes),
needs no new event type carrying key material, survives a missed message, and costs
one indexed query a second per ingest process whatever the number of streams.

Each poll also tells the lock keeper (lock_keeper.py) that the event loop runs; the
keeper renews the live locks on its own thread and reports each renewal here
(`on_lock_renewed`): a lock taken back after a failover keeps the room, with its
registry entry renewed (streaming/hls_nodes.py); a lock another ingest took drops
our publisher without ending the stream it continues.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from rooms import services as rooms
from rooms.models import StreamIncident
from streaming.ingest.database import on_database_thread, record_incident
from streaming.ingest.live_room import LiveRoom

if TYPE_CHECKING:
    from streaming.ingest.service import Ingest

logger = logging.getLogger("livesite.ingest")


class RoomWatch:
    """Watches the `Ingest`'s live rooms; drops and ends through the ingest itself."""

    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll_forever())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ingest.settings.key_check_interval)
            try:
                await self.check_rooms()
            except Exception:
                logger.exception("ingest watch failed; retrying")

    async def check_rooms(self) -> None:
        """Drop publishers whose key was rotated, and end the streams of rooms that were
        stopped or whose owner may no longer go live (a sanction)."""
        watched = list(self.ingest.live.values())
        if not watched:
            return
        states = await on_database_thread(rooms.publish_states, [live.room_id for live in watched])
        for live in watched:
            state = states.get(live.room_id)
            why = why_end(live, state)
            if why and not live.stopped:
                await self._end(live, state, why)
            elif not why and state.key_hash != live.key_hash and live.session is not None:
                logger.info("room %s: stream key rotated; dropping its publisher", live.slug)
                self.ingest.drop_later(live.session, "stream key rotated")
                await record_incident(
                    live, StreamIncident.Kind.PUBLISHER_DROPPED, "The stream key was rotated."
                )

    async def _end(self, live: LiveRoom, state: rooms.PublishState | None, why: str) -> None:
        logger.info("room %s: %s; ending the stream", live.slug, why)
        live.stopped = True
        if state is not None and state.refusal is not None:
            await record_incident(live, StreamIncident.Kind.PUBLISHER_DROPPED, state.refusal.reason)
        if live.session is not None:
            self.ingest.drop_later(live.session, "room stopped")
        else:  # waiting out the reconnect grace: end now
            live.cancel_grace()
            await self.ingest.end_unpublished(live)

    def on_lock_renewed(self, room_id: int, token: str, fence: int) -> None:
        """A renewal's outcome, from the lock keeper's thread (lock_keeper.py)."""
        ingest = self.ingest
        live = ingest.live.get(room_id)
        if live is None or live.lock_token != token:
            return  # the stream ended (or restarted) since
        if fence:
            if fence != live.lock_fence:  # the lock vanished (failover) and was taken back
                logger.warning("room %s: live lock taken back with fence %s", live.slug, fence)
                live.lock_fence = fence
            if ingest.nodes:
                ingest.in_background(ingest.nodes.renew(live.room_id, live.slug))
            return
        # Another ingest holds the room now (ours expired): it owns the stream, so
        # stop publishing here without ending the stream it continues.
        logger.error("room %s: live lock lost; dropping the local publisher", live.slug)
        live.lock_lost = True
        live.cancel_grace()
        ingest.live.pop(live.room_id, None)
        if live.session is not None:
            ingest.drop_later(live.session, "live lock lost")
        ingest.in_background(
            record_incident(
                live,
                StreamIncident.Kind.PUBLISHER_DROPPED,
                "This ingest lost the room's live lock (another ingest holds it now).",
            )
        )


def why_end(live: LiveRoom, state: rooms.PublishState | None) -> str | None:
    """Why a held room's stream must end now, or None to keep it."""
    if state is None:
        return "the room was deleted"
    if state.refusal is not None:
        if state.refusal.code == rooms.STOPPED:
            return "stopped by its owner"
        return f"it may no longer go live ({state.refusal.code}: {state.refusal.reason})"
    # The stream ended in the database behind our back (Stop then Start within one
    # check): end it here too.
    if state.stream_id != live.stream_id:
        return "its stream ended elsewhere"
    return None
