"""The ingest: the rooms live on this process, and the one entry other code calls.

`Ingest` starts and stops the ingest (the RTMP server, the WHIP hand-over, the watch,
the lock keeper) and holds the rooms live here under one guard: a publish accepted
(or continued within its reconnect grace), a publisher gone, a stream ended. Each job
is a module of its own:

- authorize.py: who may publish to which room, and the room's live lock;
- streams.py: a stream started and ended (folder, database, node registry, replay);
- supervise.py: the room's transcoder, restarted when it dies, its events;
- watch.py: rotated keys, stops, sanctions and lost live locks;
- rtmp_session.py and whip.py: the protocols' sessions; database.py: ORM calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine

from streaming.hls_nodes import NodeRegistry
from streaming.ingest.authorize import take_live_lock
from streaming.ingest.errors import PublishRefused
from streaming.ingest.handover import Handover
from streaming.ingest.live_lock import LiveLock
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.lock_keeper import LockKeeper
from streaming.ingest.rtmp_session import RtmpPublishers
from streaming.ingest.settings import IngestSettings
from streaming.ingest.streams import finish_stream, open_stream
from streaming.ingest.supervise import TranscoderSupervisor
from streaming.ingest.watch import RoomWatch
from streaming.ingest.whip import WhipPublishers
from streaming.rtmp.server import RtmpServer, ServerLimits

logger = logging.getLogger("livesite.ingest")


class Ingest:
    def __init__(
        self, settings: IngestSettings, lock: LiveLock, nodes: NodeRegistry | None = None
    ) -> None:
        self.settings = settings
        self.nodes = nodes  # several ingest machines: the room -> node registry
        self.watch = RoomWatch(self)
        # Renewed on a thread of its own: a busy event loop must not lose the rooms.
        self.lock = LockKeeper(lock, settings.lock_ttl / 3, self.watch.on_lock_renewed)
        self.transcoders = TranscoderSupervisor(settings, nodes, self.in_background)
        self.rtmp = RtmpPublishers(self)
        self.server: RtmpServer | None = None
        self.live: dict[int, LiveRoom] = {}
        self._guard = asyncio.Lock()
        self._background: set[asyncio.Task] = set()
        # Streams being closed (playlists, replay, database, lock), by room id: slow work
        # kept out of the guard, so one long replay never holds up other publishers.
        self._finishing: dict[int, asyncio.Task] = {}
        self.whip = WhipPublishers(self, settings.ice, settings.whep)
        self._handover = Handover(self.whip)

    async def start(self, host: str, port: int, limits: ServerLimits | None = None) -> int:
        self.lock.start()
        self.server = RtmpServer(host, port, self.rtmp.authorize, limits or self.settings.limits)
        await self.server.start()
        self.watch.start()
        await self._handover.start()
        return self.server.port

    async def close(self) -> None:
        """Stop: end every connection, then every stream at once (no grace on shutdown)."""
        self.watch.stop()
        await self._handover.close()
        await self.whip.close()
        if self.server:
            await self.server.close()
        for live in list(self.live.values()):
            live.cancel_grace()
            await self._end_stream(live)
        await asyncio.gather(*self._finishing.values(), return_exceptions=True)
        await self.lock.close()

    def in_background(self, coroutine: Coroutine) -> None:
        """Run work the stream must not wait for (health, registry, incidents)."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def drop_later(self, session, reason: str) -> None:
        """Drop a publisher without waiting for its on_close (which may take the guard)."""
        self.in_background(session.drop(reason))

    # --- publishing -------------------------------------------------------------------

    async def accept_publish(self, room, make_session):
        """Make `room` live (or continue it within its reconnect grace) for the session
        `make_session(live)` returns, and start its transcoder. The room comes from
        `authorize.room_for_publish`."""
        busy = PublishRefused.ALREADY_LIVE
        async with self._guard:
            live = self.live.get(room.pk)
            if live is not None and live.session is not None:
                raise PublishRefused(busy, "this room is already live from another connection")
            if live is None:
                if room.pk in self._finishing:
                    raise PublishRefused(busy, "the last stream is still being saved")
                live = await self._go_live(room)
            else:
                live.cancel_grace()
                logger.info("room %s: publisher reconnected, stream continues", room.slug)
            live.key_hash = room.stream_key_hash
            session = make_session(live)
            live.session = session
            live.new_publish()
            try:
                await self.transcoders.start(live)
            except OSError as error:
                live.session = None
                live.grace = asyncio.create_task(self._end_after_grace(live))
                logger.error("room %s: cannot start a transcoder: %s", room.slug, error)
                raise PublishRefused(
                    PublishRefused.UNAVAILABLE, "the server cannot transcode right now"
                ) from None
            return session

    async def _go_live(self, room) -> LiveRoom:
        token, fence = await take_live_lock(self.lock, room)
        try:
            live = await open_stream(room, token, fence, self.settings.hls_root, self.nodes)
        except BaseException:
            # Nothing went live here. The keeper would renew the lock for as long as this
            # process runs, and every publish of the room, on any ingest, be refused.
            await self._let_go(room, token)
            raise
        self.live[room.pk] = live
        logger.info("room %s is live (live lock fence %s)", room.slug, fence)
        return live

    async def _let_go(self, room, token: str) -> None:
        try:
            await self.lock.release(room.pk, token)
            if self.nodes:
                await self.nodes.clear(room.pk, room.slug)  # only if it names this node
        except Exception:
            # It expires after its lifetime; the keeper renews only the rooms live here.
            logger.exception("room %s: could not give back its live lock", room.slug)

    async def publisher_left(self, live: LiveRoom, session, reason: str) -> None:
        async with self._guard:
            if live.session is session:
                live.session = None
        await self.transcoders.stop(live)
        if live.lock_lost or live.session is not None:
            return
        # A WebRTC publisher that never connected sent nothing: no grace holds the room
        # (and its live lock) for a browser that went away before ICE finished.
        never_sent = not session.connected and live.publishes == 1
        if live.stopped or never_sent:
            await self.end_unpublished(live)
            return
        logger.info("room %s: publisher left (%s); grace %gs", live.slug, reason,
                    self.settings.reconnect_grace)  # fmt: skip
        live.grace = asyncio.create_task(self._end_after_grace(live))

    # --- ending a stream ----------------------------------------------------------------

    async def end_unpublished(self, live: LiveRoom) -> None:
        """End the room's stream now, unless a publisher (re)connected meanwhile."""
        async with self._guard:
            if self.live.get(live.room_id) is live and live.session is None:
                await self._end_stream(live)

    async def _end_after_grace(self, live: LiveRoom) -> None:
        await asyncio.sleep(self.settings.reconnect_grace)
        async with self._guard:
            if live.session is not None or self.live.get(live.room_id) is not live:
                return
            live.grace = None
            await self._end_stream(live)

    async def _end_stream(self, live: LiveRoom) -> None:
        """Under the guard: the room stops being live here; the rest happens in a task."""
        self.live.pop(live.room_id, None)
        task = asyncio.create_task(finish_stream(live, self.settings, self.lock, self.nodes))
        self._finishing[live.room_id] = task
        task.add_done_callback(lambda _: self._finishing.pop(live.room_id, None))
