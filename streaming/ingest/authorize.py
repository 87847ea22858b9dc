"""Who may publish to which room: the one check for RTMP and WHIP, and going live.

A publish is accepted for a known stream key only when `rooms.services.may_publish`
allows the room (owner active and a broadcaster, no staff revocation or stop, no site
ban, room started). The first accepted publish of a room takes its live lock (one
publisher per room across every ingest), empties its live folder and starts a stream
in the database (or, with several ingest machines, continues the stream of a node that
died within the reconnect grace); a publish within the reconnect grace continues the
stream.
`Ingest` (service.py) is built from this and the other parts of the ingest.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
from pathlib import Path

from rooms import services as rooms
from streaming.ingest import database
from streaming.ingest.errors import PublishRefused
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.rtmp_session import PublisherSession
from streaming.replays import REPLAYS
from streaming.rtmp.server import PublishRejected

logger = logging.getLogger("livesite.ingest")

BAD_NAME = "NetStream.Publish.BadName"


class PublishAuthorization:
    """The ingest's publishing checks. Uses the `Ingest`'s settings, lock, node registry,
    live rooms, guard, finishing streams and WHIP publishers (which announce the room), and
    its `_start_transcoder` and `_end_after_grace`."""

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
        room = await database.call(rooms.room_for_publish_credential, stream_key)
        if room is None:
            raise PublishRefused(PublishRefused.UNKNOWN_KEY, "unknown stream key")
        # The one place the ingest asks whether a room may go live, for RTMP and WHIP.
        refusal = await database.call(rooms.may_publish, room)
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
            stream = await database.call(rooms.continue_stream, room, handoff.stream_id)
            if stream.pk != handoff.stream_id:
                handoff = None
        else:
            stream = await database.call(rooms.start_stream, room, True)
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
