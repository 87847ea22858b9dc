"""The ingest: RTMP and WHIP publishers in, one supervised transcoder per live room out.

`Ingest` holds the rooms live on this process and puts together the parts, one job
each: who may publish and going live (authorize.py), the transcoders (supervise.py),
the watch over keys, sanctions and live locks (watch.py). What stays here is starting
and stopping the ingest, and ending a stream: the reconnect grace after a publisher
leaves, then the playlists closed, the replay kept, the stream ended in the database
and the live lock released.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from rooms import cache as room_cache
from rooms import services as rooms
from streaming.hls_nodes import NodeRegistry
from streaming.ingest import database
from streaming.ingest.authorize import PublishAuthorization
from streaming.ingest.handover import Handover
from streaming.ingest.live_lock import LiveLock
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.rtmp_session import PublisherSession
from streaming.ingest.supervise import TranscoderSupervision
from streaming.ingest.transcoder_process import TranscoderSettings
from streaming.ingest.watch import KeyAndLockWatch
from streaming.ingest.whip import WhipPublishers
from streaming.replays import make_replay, prune_live_folder
from streaming.rtmp.server import RtmpServer, ServerLimits
from streaming.transcoder.rendition_playlist import end_live_playlists
from streaming.webrtc.network import IceSettings

logger = logging.getLogger("livesite.ingest")


@dataclass(frozen=True)
class IngestSettings:
    hls_root: Path
    app: str = "live"
    reconnect_grace: float = 30.0
    lock_ttl: float = 15.0
    key_check_interval: float = 1.0
    max_transcoder_restarts: int = 3
    keep_replays: bool = True
    transcoder: TranscoderSettings = field(default_factory=TranscoderSettings)
    limits: ServerLimits = field(default_factory=ServerLimits)
    ice: IceSettings = field(default_factory=IceSettings)

    @classmethod
    def from_django(cls) -> IngestSettings:
        from django.conf import settings

        return cls(
            hls_root=Path(settings.HLS_ROOT),
            app=settings.INGEST_APP,
            reconnect_grace=settings.INGEST_RECONNECT_GRACE,
            lock_ttl=settings.INGEST_LOCK_TTL,
            key_check_interval=settings.INGEST_KEY_CHECK_MS / 1000,
            max_transcoder_restarts=settings.INGEST_MAX_TRANSCODER_RESTARTS,
            keep_replays=settings.REPLAY_RETENTION_HOURS > 0,
            transcoder=TranscoderSettings(
                segment_seconds=settings.TRANSCODER_SEGMENT_SECONDS,
                part_seconds=settings.TRANSCODER_PART_SECONDS,
                ladder=settings.TRANSCODER_LADDER,
                preset=settings.TRANSCODER_PRESET,
                keep_recording=settings.REPLAY_RETENTION_HOURS > 0,
                max_recording_seconds=settings.REPLAY_MAX_HOURS * 3600,
            ),
            limits=ServerLimits(
                max_connections=settings.INGEST_MAX_CONNECTIONS,
                max_connections_per_address=settings.INGEST_MAX_CONNECTIONS_PER_ADDRESS,
                max_bytes_before_publish=settings.INGEST_BYTES_BEFORE_PUBLISH,
                handshake_timeout=settings.INGEST_HANDSHAKE_TIMEOUT,
                idle_timeout=settings.INGEST_IDLE_TIMEOUT,
            ),
            ice=IceSettings.from_django(),
        )


class Ingest(PublishAuthorization, TranscoderSupervision, KeyAndLockWatch):
    def __init__(
        self, settings: IngestSettings, lock: LiveLock, nodes: NodeRegistry | None = None
    ) -> None:
        self.settings = settings
        self.lock = lock
        self.nodes = nodes  # several ingest machines: the room -> node registry
        self.server: RtmpServer | None = None
        self.live: dict[int, LiveRoom] = {}
        self._guard = asyncio.Lock()
        self._watch: asyncio.Task | None = None
        self._drops: set[asyncio.Task] = set()
        # Streams being closed (playlists, replay, database, lock), by room id: slow work
        # kept out of the guard, so one long replay never holds up other publishers.
        self._finishing: dict[int, asyncio.Task] = {}
        self.whip = WhipPublishers(self, settings.ice)
        self._handover = Handover(self.whip)

    def _drop_later(self, session: PublisherSession, reason: str) -> None:
        """Drop a publisher without waiting for its on_close (which may take the guard)."""
        task = asyncio.create_task(session.drop(reason))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def start(self, host: str, port: int, limits: ServerLimits | None = None) -> int:
        self.server = RtmpServer(host, port, self.authorize, limits or self.settings.limits)
        await self.server.start()
        self._watch = asyncio.create_task(self._watch_keys_and_locks())
        await self._handover.start()
        return self.server.port

    async def close(self) -> None:
        """Stop: end every connection, then every stream at once (no grace on shutdown)."""
        if self._watch:
            self._watch.cancel()
        await self._handover.close()
        await self.whip.close()
        if self.server:
            await self.server.close()
        for live in list(self.live.values()):
            live.cancel_grace()
            await self._end_stream(live)
        await asyncio.gather(*self._finishing.values(), return_exceptions=True)

    # --- ending a stream ----------------------------------------------------------------

    async def publisher_left(self, live: LiveRoom, session, reason: str) -> None:
        async with self._guard:
            if live.session is session:
                live.session = None
        exit_ = await live.transcoder.finish() if live.transcoder else None
        if exit_ is not None and not exit_.clean and exit_ not in live.deaths:
            logger.warning("room %s: transcoder ended badly (%s)", live.slug, exit_.describe())
        if live.lock_lost or live.session is not None:
            return
        # A WebRTC publisher that never connected sent nothing: no grace holds the room
        # (and its live lock) for a browser that went away before ICE finished.
        never_sent = not session.connected and live.publishes == 1
        if live.stopped or never_sent:
            async with self._guard:
                if self.live.get(live.room_id) is live and live.session is None:
                    await self._end_stream(live)
            return
        logger.info("room %s: publisher left (%s); grace %gs", live.slug, reason,
                    self.settings.reconnect_grace)  # fmt: skip
        live.grace = asyncio.create_task(self._end_after_grace(live))

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
        task = asyncio.create_task(self._finish(live))
        self._finishing[live.room_id] = task
        task.add_done_callback(lambda _: self._finishing.pop(live.room_id, None))

    async def _finish(self, live: LiveRoom) -> None:
        """Close the playlists, keep the replay, end the stream, release the lock. Each
        step runs even if one before it failed (the room may have been deleted)."""
        try:
            await asyncio.to_thread(end_live_playlists, live.output)
        except OSError:
            logger.exception("room %s: could not end the live playlists", live.slug)
        if not live.lock_lost:
            await self._keep_replay(live)
            try:
                await database.call(rooms.end_stream, live.room, live.stream_id)
            except Exception:
                logger.exception("room %s: could not end the stream", live.slug)
            await self.lock.release(live.room_id, live.lock_token)
            if self.nodes:
                await self.nodes.clear(live.room_id, live.slug)
        try:
            await room_cache.store_health(live.room_id, None)
        except Exception:
            logger.warning("room %s: could not clear the health report", live.slug)
        logger.info("room %s: stream ended", live.slug)

    async def _keep_replay(self, live: LiveRoom) -> None:
        if not self.settings.keep_replays or live.stream_id is None:
            return
        try:
            seconds = await asyncio.to_thread(make_replay, live.output, live.stream_id)
            await asyncio.to_thread(prune_live_folder, live.output)
            if seconds:
                await database.call(rooms.record_replay, live.stream_id, seconds)
        except Exception:  # a replay that cannot be made must not keep the room live
            logger.exception("room %s: could not keep the replay", live.slug)
