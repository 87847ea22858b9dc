"""The ingest: authorizes publishers, runs their transcoders, marks rooms live and ended.

Key rotation reaches a live publisher by polling: every `key_check_interval` one query
reads the key hash of every room this process is publishing, and a publisher whose room
has a different hash than the one it authorized with is dropped. We chose polling over
a channel-layer group because it works the same on every install (the in-memory channel
layer of the one-machine install does not cross processes), needs no new event type
carrying key material, survives a missed message, and costs one indexed query a second
per ingest process whatever the number of streams.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from rooms import services as rooms
from streaming.ingest.live_lock import LiveLock
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.transcoder_process import (
    TranscoderGone,
    TranscoderProcess,
    TranscoderSettings,
)
from streaming.rtmp.server import PublishRejected, RtmpServer, ServerLimits
from streaming.transcoder.rendition_playlist import end_live_playlists

logger = logging.getLogger("livesite.ingest")

BAD_NAME = "NetStream.Publish.BadName"


@dataclass(frozen=True)
class IngestSettings:
    hls_root: Path
    app: str = "live"
    reconnect_grace: float = 30.0
    lock_ttl: float = 15.0
    key_check_interval: float = 1.0
    max_transcoder_restarts: int = 3
    transcoder: TranscoderSettings = field(default_factory=TranscoderSettings)

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
            transcoder=TranscoderSettings(
                segment_seconds=settings.TRANSCODER_SEGMENT_SECONDS,
                ladder=settings.TRANSCODER_LADDER,
                preset=settings.TRANSCODER_PRESET,
            ),
        )


async def _db(function, *args):
    """Run an ORM call on the shared database thread; a stale connection is replaced first."""

    def call():
        close_old_connections()
        return function(*args)

    return await sync_to_async(call, thread_sensitive=True)()


class PublisherSession:
    """The `PublishSession` of one RTMP connection: hands its FLV to the room's transcoder."""

    def __init__(self, ingest: Ingest, live: LiveRoom) -> None:
        self.ingest = ingest
        self.live = live

    async def on_flv(self, data: bytes) -> None:
        data = self.live.resume.feed(data)
        if not data:
            return
        try:
            await self.live.transcoder.write(data)
        except TranscoderGone:
            await self.ingest.transcoder_died(self.live, self)

    async def on_close(self, reason: str) -> None:
        await self.ingest.publisher_left(self.live, self, reason)


class Ingest:
    def __init__(self, settings: IngestSettings, lock: LiveLock) -> None:
        self.settings = settings
        self.lock = lock
        self.server: RtmpServer | None = None
        self.live: dict[int, LiveRoom] = {}
        self._guard = asyncio.Lock()
        self._watch: asyncio.Task | None = None
        self._drops: set[asyncio.Task] = set()

    def _drop_later(self, session: PublisherSession, reason: str) -> None:
        """Drop a publisher without waiting for its on_close (which may take the guard)."""
        task = asyncio.create_task(self.server.drop(session, reason))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def start(self, host: str, port: int, limits: ServerLimits | None = None) -> int:
        self.server = RtmpServer(host, port, self.authorize, limits)
        await self.server.start()
        self._watch = asyncio.create_task(self._watch_keys_and_locks())
        return self.server.port

    async def close(self) -> None:
        """Stop: end every connection, then every stream at once (no grace on shutdown)."""
        if self._watch:
            self._watch.cancel()
        if self.server:
            await self.server.close()
        for live in list(self.live.values()):
            live.cancel_grace()
            await self._end_stream(live)

    # --- publishing -------------------------------------------------------------------

    async def authorize(self, app: str, stream_key: str, peer: str) -> PublisherSession:
        try:
            return await self._authorize(app, stream_key)
        except PublishRejected as rejected:
            # The RTMP server logs a key fingerprint; this line says why (never the key).
            logger.info("publish from %s refused: %s", peer, rejected.description)
            raise

    async def _authorize(self, app: str, stream_key: str) -> PublisherSession:
        if app != self.settings.app:
            raise PublishRejected(BAD_NAME, "unknown application")
        room = await _db(rooms.room_for_stream_key, stream_key)
        if room is None:
            raise PublishRejected(BAD_NAME, "unknown stream key")
        async with self._guard:
            live = self.live.get(room.pk)
            if live is not None and live.session is not None:
                raise PublishRejected(BAD_NAME, "this room is already live from another connection")
            if live is None:
                live = await self._go_live(room)
            else:
                live.cancel_grace()
                logger.info("room %s: publisher reconnected, stream continues", room.slug)
            live.key_hash = room.stream_key_hash
            session = PublisherSession(self, live)
            live.session = session
            live.new_publish()
            try:
                await self._start_transcoder(live)
            except OSError as error:
                live.session = None
                live.grace = asyncio.create_task(self._end_after_grace(live))
                logger.error("room %s: cannot start a transcoder: %s", room.slug, error)
                raise PublishRejected(BAD_NAME, "the server cannot transcode right now") from None
            return session

    async def _go_live(self, room) -> LiveRoom:
        token = secrets.token_hex(16)
        if not await self.lock.acquire(room.pk, token):
            raise PublishRejected(BAD_NAME, "this room is already live from another ingest")
        output = self.settings.hls_root / room.slug
        # A new stream starts from an empty folder: no segment of the last one may leak in.
        await asyncio.to_thread(_empty_folder, output)
        await _db(rooms.start_stream, room)
        live = LiveRoom(room=room, output=output, lock_token=token, key_hash=room.stream_key_hash)
        self.live[room.pk] = live
        logger.info("room %s is live", room.slug)
        return live

    async def _start_transcoder(self, live: LiveRoom) -> None:
        if live.transcoder is not None:
            await live.transcoder.finish()  # never two transcoders writing one folder
        argv = self.settings.transcoder.argv(live.output, discontinuity=live.continuing)
        live.transcoder = TranscoderProcess(argv)
        await live.transcoder.start()
        live.transcoders_started += 1

    async def transcoder_died(self, live: LiveRoom, session: PublisherSession) -> None:
        exit_ = live.transcoder.exit or await live.transcoder.wait()
        live.deaths.append(exit_)
        logger.warning(
            "room %s: transcoder died while live (%s); last stderr: %s",
            live.slug, exit_.describe(), " | ".join(exit_.stderr_tail[-3:]),
        )  # fmt: skip
        if live.restarts >= self.settings.max_transcoder_restarts:
            await self.server.drop(session, "transcoder keeps failing")
            return
        live.restarts += 1
        await self._start_transcoder(live)
        try:
            await live.transcoder.write(live.resume.restart())
        except TranscoderGone:
            await self.server.drop(session, "transcoder failed to restart")

    async def publisher_left(self, live: LiveRoom, session: PublisherSession, reason: str) -> None:
        async with self._guard:
            if live.session is session:
                live.session = None
        exit_ = await live.transcoder.finish() if live.transcoder else None
        if exit_ is not None and not exit_.clean and exit_ not in live.deaths:
            logger.warning("room %s: transcoder ended badly (%s)", live.slug, exit_.describe())
        if live.lock_lost or live.session is not None:
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
        self.live.pop(live.room_id, None)
        await asyncio.to_thread(end_live_playlists, live.output)
        if not live.lock_lost:
            await _db(rooms.end_stream, live.room)
            await self.lock.release(live.room_id, live.lock_token)
        logger.info("room %s: stream ended", live.slug)

    # --- watching keys and locks --------------------------------------------------------

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
        publishing = [live for live in self.live.values() if live.session is not None]
        if not publishing:
            return
        hashes = await _db(rooms.stream_key_hashes, [live.room_id for live in publishing])
        for live in publishing:
            if hashes.get(live.room_id) != live.key_hash and live.session is not None:
                logger.info("room %s: stream key rotated; dropping its publisher", live.slug)
                self._drop_later(live.session, "stream key rotated")

    async def _renew_locks(self) -> None:
        for live in list(self.live.values()):
            if await self.lock.renew(live.room_id, live.lock_token):
                continue
            # Another ingest holds the room now (ours expired): it owns the stream, so
            # stop publishing here without ending the stream it continues.
            logger.error("room %s: live lock lost; dropping the local publisher", live.slug)
            live.lock_lost = True
            live.cancel_grace()
            self.live.pop(live.room_id, None)
            if live.session is not None:
                self._drop_later(live.session, "live lock lost")


def _empty_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
