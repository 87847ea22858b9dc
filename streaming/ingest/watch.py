"""Watching the rooms an ingest holds: rotated keys, stops, sanctions and live locks.

Sanctions and key rotation reach a live publisher by polling: every
`key_check_interval` one query reads the key hash and the publishing rule for every
room this process is publishing (`rooms.services.publish_states`); a publisher whose
room has a different hash than the one it authorized with, or whose room became
barred, is dropped. We chose polling over a channel-layer group because it works the
same on every install (the in-memory channel layer of the one-machine install does not
cross processes), needs no new event type carrying key material, survives a missed
message, and costs one indexed query a second per ingest process whatever the number
of streams. The same loop renews the rooms' live locks, and drops a publisher whose
lock another ingest took.
"""

from __future__ import annotations

import asyncio
import logging

from rooms import services as rooms
from rooms.models import StreamIncident
from streaming.ingest import database
from streaming.ingest.live_room import LiveRoom

logger = logging.getLogger("livesite.ingest")


class KeyAndLockWatch:
    """Uses the `Ingest`'s settings, lock, node registry (renewed with the locks), live
    rooms and guard, and its `_drop_later`, `_end_stream` and `_record_incident`."""

    async def _watch_keys_and_locks(self) -> None:
        renew_every = max(self.settings.lock_ttl / 3, self.settings.key_check_interval)
        since_renewal = 0.0
        while True:
            await asyncio.sleep(self.settings.key_check_interval)
            since_renewal += self.settings.key_check_interval
            try:
                await self._drop_rotated_keys()
                if since_renewal >= renew_every:
                    since_renewal = 0.0
                    await self._renew_locks()
            except Exception:
                logger.exception("ingest watch failed; retrying")

    async def _drop_rotated_keys(self) -> None:
        """Drop publishers whose key was rotated, and end the streams of rooms that were
        stopped or whose owner may no longer go live (a sanction)."""
        watched = list(self.live.values())
        if not watched:
            return
        states = await database.call(rooms.publish_states, [live.room_id for live in watched])
        for live in watched:
            state = states.get(live.room_id)
            why = _why_end(live, state)
            if why and not live.stopped:
                logger.info("room %s: %s; ending the stream", live.slug, why)
                live.stopped = True
                if state is not None and state.refusal is not None:
                    await self._record_incident(
                        live, StreamIncident.Kind.PUBLISHER_DROPPED, state.refusal.reason
                    )
                if live.session is not None:
                    self._drop_later(live.session, "room stopped")
                else:  # waiting out the reconnect grace: end now
                    live.cancel_grace()
                    await self._end_stopped(live)
            elif not why and state.key_hash != live.key_hash and live.session is not None:
                logger.info("room %s: stream key rotated; dropping its publisher", live.slug)
                self._drop_later(live.session, "stream key rotated")
                await self._record_incident(
                    live, StreamIncident.Kind.PUBLISHER_DROPPED, "The stream key was rotated."
                )

    async def _end_stopped(self, live: LiveRoom) -> None:
        async with self._guard:
            if self.live.get(live.room_id) is live and live.session is None:
                await self._end_stream(live)

    async def _renew_locks(self) -> None:
        for live in list(self.live.values()):
            fence = await self.lock.renew(live.room_id, live.lock_token)
            if fence:
                if fence != live.lock_fence:  # the lock vanished (failover) and was taken back
                    logger.warning("room %s: live lock taken back with fence %s", live.slug, fence)
                    live.lock_fence = fence
                if self.nodes:
                    await self.nodes.renew(live.room_id, live.slug)
                continue
            # Another ingest holds the room now (ours expired): it owns the stream, so
            # stop publishing here without ending the stream it continues.
            logger.error("room %s: live lock lost; dropping the local publisher", live.slug)
            await self._record_incident(
                live,
                StreamIncident.Kind.PUBLISHER_DROPPED,
                "This ingest lost the room's live lock (another ingest holds it now).",
            )
            live.lock_lost = True
            live.cancel_grace()
            self.live.pop(live.room_id, None)
            if live.session is not None:
                self._drop_later(live.session, "live lock lost")


def _why_end(live: LiveRoom, state: rooms.PublishState | None) -> str | None:
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
