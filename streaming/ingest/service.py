"""The ingest: authorizes publishers, runs their transcoders, marks rooms live and ended.

A publish is accepted for a known stream key only when `rooms.services.may_publish`
allows the room (owner active and a broadcaster, no staff revocation or stop, no site
ban, room started). Sanctions and key rotation reach a live publisher by polling: every
`key_check_interval` one query reads the key hash and the same rule for every room this
process is publishing; a publisher whose room has a different hash than the one it
authorized with, or whose room became barred, is dropped. We chose polling over
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

from realtime.publish import apublish
from rooms import cache as room_cache
from rooms import events as room_events
from rooms import services as rooms
from rooms.models import StreamIncident
from streaming.hls_nodes import NodeRegistry
from streaming.ingest.errors import PublishRefused
from streaming.ingest.handover import Handover
from streaming.ingest.live_lock import LiveLock
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.transcoder_process import (
    REALTIME_FD_PLACEHOLDER,
    TranscoderGone,
    TranscoderProcess,
    TranscoderSettings,
)
from streaming.ingest.whip import WhipPublishers
from streaming.replays import REPLAYS, make_replay, prune_live_folder
from streaming.rtmp.server import PublishRejected, RtmpServer, ServerLimits
from streaming.transcoder.rendition_playlist import end_live_playlists
from streaming.webrtc.flv_source import FlvRealtimeSource
from streaming.webrtc.network import IceSettings

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


async def _db(function, *args):
    """Run an ORM call on the shared database thread; a stale connection is replaced first."""

    def call():
        close_old_connections()
        return function(*args)

    return await sync_to_async(call, thread_sensitive=True)()




class PublisherSession:
    """The `PublishSession` of one RTMP connection: hands its FLV to the room's transcoder."""

    input_format = "flv"
    connected = True

    def __init__(self, ingest: Ingest, live: LiveRoom) -> None:
        self.ingest = ingest
        self.live = live
        # The room's real-time (WHEP) viewers get the same FLV as encoded frames.
        self.realtime = FlvRealtimeSource(ingest.whip.viewers.relay_for(live.room_id))

    async def drop(self, reason: str) -> None:
        await self.ingest.server.drop(self, reason)

    async def restart_input(self) -> None:
        """A new transcoder: replay the FLV set-up tags it needs before the next tag."""
        await self.live.transcoder.write(self.live.resume.restart())

    async def on_flv(self, data: bytes) -> None:
        self.realtime.feed(data)
        data = self.live.resume.feed(data)
        if not data:
            return
        try:
            await self.live.transcoder.write(data)
        except TranscoderGone:
            await self.ingest.transcoder_died(self.live, self)

    async def on_close(self, reason: str) -> None:
        await self.ingest.whip.viewers.source_ended(self.live.room_id)
        await self.ingest.whip.forget_room(self.live.slug)
        await self.ingest.publisher_left(self.live, self, reason)


class Ingest:
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

    # --- publishing -------------------------------------------------------------------

    async def authorize(self, app: str, stream_key: str, peer: str) -> PublisherSession:
        try:
            if app != self.settings.app:
                raise PublishRefused(PublishRefused.UNKNOWN_KEY, "unknown application")
            room = await self.room_for_publish(stream_key)
            session = await self.accept_publish(room, lambda live: PublisherSession(self, live))
            await self.whip.announce_room(room.slug)
            return session
        except PublishRefused as refused:
            # The RTMP server logs a key fingerprint; this line says why (never the key).
            logger.info("publish from %s refused: %s", peer, refused.description)
            raise PublishRejected(BAD_NAME, refused.description) from None

    async def room_for_publish(self, stream_key: str):
        """The room this key publishes to, if it may go live now (any protocol)."""
        room = await _db(rooms.room_for_publish_credential, stream_key)
        if room is None:
            raise PublishRefused(PublishRefused.UNKNOWN_KEY, "unknown stream key")
        # The one place the ingest asks whether a room may go live, for RTMP and WHIP.
        refusal = await _db(rooms.may_publish, room)
        if refusal is not None:
            raise PublishRefused(PublishRefused.NOT_ALLOWED, f"{refusal.code}: {refusal.reason}")
        return room

    async def accept_publish(self, room, make_session):
        """Make `room` live (or continue it within its reconnect grace) for the session
        `make_session(live)` returns, and start its transcoder."""
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
                await self._start_transcoder(live)
            except OSError as error:
                live.session = None
                live.grace = asyncio.create_task(self._end_after_grace(live))
                logger.error("room %s: cannot start a transcoder: %s", room.slug, error)
                raise PublishRefused(
                    PublishRefused.UNAVAILABLE, "the server cannot transcode right now"
                ) from None
            return session

    async def _go_live(self, room) -> LiveRoom:
        token = secrets.token_hex(16)
        fence = await self.lock.acquire(room.pk, token)
        if not fence:
            raise PublishRefused(
                PublishRefused.ALREADY_LIVE, "this room is already live from another ingest"
            )
        output = self.settings.hls_root / room.slug
        # A new stream starts from an empty folder: no segment of the last one may leak in.
        await asyncio.to_thread(_empty_folder, output)
        # We just took the room's lock: a stream still open in the database was left by an
        # ingest that vanished, and is ended rather than continued; unless the registry of
        # several ingest machines says its node died within the reconnect grace.
        handoff = await self.nodes.handoff(room.pk) if self.nodes else None
        if handoff is not None:
            stream = await _db(rooms.continue_stream, room, handoff.stream_id)
            if stream.pk != handoff.stream_id:
                handoff = None
        else:
            stream = await _db(rooms.start_stream, room, True)
        if self.nodes:
            await self.nodes.claim(room.pk, room.slug, stream.pk, handoff)
        live = LiveRoom(
            room=room,
            output=output,
            lock_token=token,
            lock_fence=fence,
            key_hash=room.stream_key_hash,
            stream_id=stream.pk,
            handoff=handoff,
        )
        if handoff is not None:
            logger.info("room %s: continues stream %s from node %s after segment %s",
                        room.slug, stream.pk, handoff.node, handoff.last_sequence)  # fmt: skip
        self.live[room.pk] = live
        logger.info("room %s is live (live lock fence %s)", room.slug, fence)
        return live

    async def _start_transcoder(self, live: LiveRoom) -> None:
        if live.transcoder is not None:
            await live.transcoder.finish()  # never two transcoders writing one folder
        realtime = getattr(live.session, "realtime", None)
        argv = self.settings.transcoder.argv(
            live.output,
            discontinuity=live.continuing,
            input_format=live.session.input_format,
            realtime_fd=REALTIME_FD_PLACEHOLDER if realtime is not None else None,
            continue_after=live.continue_after,
        )
        live.transcoder = TranscoderProcess(
            argv,
            on_event=lambda e: self._on_event(live, e),
            on_realtime=realtime.from_transcoder if realtime is not None else None,
        )
        await live.transcoder.start()
        live.transcoders_started += 1

    async def transcoder_died(self, live: LiveRoom, session) -> None:
        exit_ = live.transcoder.exit or await live.transcoder.wait()
        live.deaths.append(exit_)
        logger.warning(
            "room %s: transcoder died while live (%s); last stderr: %s",
            live.slug, exit_.describe(), " | ".join(exit_.stderr_tail[-3:]),
        )  # fmt: skip
        gave_up = live.restarts >= self.settings.max_transcoder_restarts
        kind = StreamIncident.Kind
        await self._record_incident(
            live,
            kind.TRANSCODER_GAVE_UP if gave_up else kind.TRANSCODER_DIED,
            "\n".join([exit_.describe(), *exit_.stderr_tail[-10:]]),
        )
        if gave_up:
            await session.drop("transcoder keeps failing")
            return
        live.restarts += 1
        await self._start_transcoder(live)
        try:
            await session.restart_input()
        except TranscoderGone:
            await session.drop("transcoder failed to restart")

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
                await _db(rooms.end_stream, live.room, live.stream_id)
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
                await _db(rooms.record_replay, live.stream_id, seconds)
        except Exception:  # a replay that cannot be made must not keep the room live
            logger.exception("room %s: could not keep the replay", live.slug)

    # --- transcoder events --------------------------------------------------------------

    def _on_event(self, live: LiveRoom, event: dict) -> None:
        if event.get("event") == "segment" and self.nodes:
            self._in_background(self._record_segment(live, event))
        if event.get("event") != "health":
            return
        health = room_events.stream_health(live.room, event)
        task = asyncio.create_task(self._publish_health(live.room_id, health))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    def _in_background(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def _record_segment(self, live: LiveRoom, event: dict) -> None:
        try:
            await self.nodes.record_segment(
                live.room_id, int(event["sequence"]), bool(event.get("discontinuity"))
            )
        except Exception:  # the next segment records again; never disturb the stream
            logger.warning("room %s: could not record the segment", live.slug, exc_info=True)

    async def _publish_health(self, room_id: int, health: dict) -> None:
        try:
            await room_cache.store_health(room_id, health)
            await apublish(room_id, health)
        except Exception:  # health is advisory: never let it disturb the stream
            logger.warning("could not publish stream health", exc_info=True)

    async def _record_incident(self, live: LiveRoom, kind: str, detail: str) -> None:
        if live.stream_id is None:
            return
        try:
            await _db(rooms.record_incident, live.stream_id, kind, detail)
        except Exception:
            logger.exception("room %s: could not record an incident", live.slug)

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
        """Drop publishers whose key was rotated, and end the streams of rooms that were
        stopped or whose owner may no longer go live (a sanction)."""
        watched = list(self.live.values())
        if not watched:
            return
        states = await _db(rooms.publish_states, [live.room_id for live in watched])
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


def _empty_folder(folder: Path) -> None:
    """Empty the room's live folder, keeping its replays (streaming/replays.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.name == REPLAYS:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
