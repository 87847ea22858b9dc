"""WHIP publishers in the ingest: the same rooms, live lock and transcoders as RTMP.

The web process checks the offer and hands it over (streaming/ingest/handover.py); here
the key is checked with the same calls as RTMP (`authorize.room_for_publish`,
`Ingest.accept_publish`), aiortc answers, and the received frames go, as live
Matroska, into the room's transcoder. A session is named `<ingest id>-<token>`, so a
DELETE reaches the ingest that holds it.
"""

from __future__ import annotations

import logging
import secrets

from streaming.ingest.authorize import room_for_publish
from streaming.ingest.transcoder_process import TranscoderGone
from streaming.ingest.whep import WhepViewers
from streaming.ingest.whep_admission import WhepLimits
from streaming.webrtc.network import IceSettings
from streaming.webrtc.publisher import WhipPeer
from streaming.webrtc.udp_ports import restrict_udp_ports

logger = logging.getLogger("livesite.ingest")


class WhipSession:
    """The `PublishSession` of one WHIP peer (compare rtmp_session.RtmpSession)."""

    input_format = "matroska"

    def __init__(self, whip: WhipPublishers, session_id: str, peer: WhipPeer) -> None:
        self.whip = whip
        self.session_id = session_id
        self.peer = peer
        self.live = None  # set when the ingest accepts the publish

    @property
    def connected(self) -> bool:
        return self.peer.connected

    async def on_media(self, data: bytes) -> None:
        if self.live is None or self.live.transcoder is None:
            return
        try:
            await self.live.transcoder.write(data)
        except TranscoderGone:
            await self.whip.ingest.transcoders.died(self.live, self)

    def on_frame(self, frame) -> None:
        if self.live is not None:
            self.whip.viewers.relay_for(self.live.room_id).push(frame)

    async def on_end(self, reason: str) -> None:
        self.whip.sessions.pop(self.session_id, None)
        logger.info("WHIP session %s closed: %s", self.session_id, reason)
        if self.live is not None:
            await self.whip.viewers.source_ended(self.live.room_id)
            await self.whip.forget_room(self.live.slug)
            await self.whip.ingest.publisher_left(self.live, self, reason)

    async def drop(self, reason: str) -> None:
        await self.peer.close(reason)

    async def restart_input(self) -> None:
        self.peer.restart_media()


class WhipPublishers:
    """This ingest's WHIP sessions, by id."""

    def __init__(self, ingest, ice: IceSettings, whep_limits: WhepLimits | None = None) -> None:
        self.ingest = ingest
        self.ice = ice
        # Every peer of this process (publishers and real-time viewers) binds in the range.
        restrict_udp_ports(ice.udp_ports)
        self.ingest_id = secrets.token_hex(6)
        self.sessions: dict[str, WhipSession] = {}
        self.viewers = WhepViewers(ingest, ice, self.ingest_id, whep_limits or WhepLimits())

    async def publish(self, stream_key: str, offer: str) -> tuple[str, str]:
        """(session id, SDP answer); raises errors.PublishRefused, or ValueError for an
        offer aiortc cannot answer."""
        room = await room_for_publish(stream_key)
        session_id = f"{self.ingest_id}-{secrets.token_urlsafe(12)}"
        session = None
        peer = WhipPeer(
            self.ice,
            on_media=lambda data: session.on_media(data),
            on_end=lambda reason: session.on_end(reason),
            on_frame=lambda frame: session.on_frame(frame),
        )
        session = WhipSession(self, session_id, peer)
        try:
            answer = await peer.answer(offer)
        except Exception as error:
            await peer.close("bad offer")
            raise ValueError(f"the offer cannot be answered: {error}") from None
        try:

            def accept(live):
                session.live = live
                return session

            await self.ingest.accept_publish(room, accept)
        except BaseException:
            session.live = None
            await peer.close("refused")
            raise
        self.sessions[session_id] = session
        self.viewers.relay_for(room.pk).request_keyframe = peer.request_keyframe
        await self.announce_room(room.slug)
        logger.info("room %s: WHIP session %s accepted", room.slug, session_id)
        return session_id, answer

    async def end(self, session_id: str) -> bool:
        session = self.sessions.get(session_id)
        if session is None:
            return False
        await session.drop("ended by the publisher (DELETE)")
        return True

    async def close(self) -> None:
        await self.viewers.close()
        for session in list(self.sessions.values()):
            await session.drop("server shutting down")

    async def announce_room(self, slug: str) -> None:
        """Say which ingest holds the room (live from WHIP or RTMP), so real-time
        viewers' offers come here."""
        from realtime.redis_client import get_redis

        client = get_redis()
        if client is not None:
            await client.set(room_ingest_key(slug), self.ingest_id, ex=ROOM_ANNOUNCE_SECONDS)

    async def forget_room(self, slug: str) -> None:
        from realtime.redis_client import get_redis

        client = get_redis()
        if client is None:
            return
        if await client.get(room_ingest_key(slug)) == self.ingest_id.encode():
            await client.delete(room_ingest_key(slug))


ROOM_ANNOUNCE_SECONDS = 24 * 3600


def room_ingest_key(slug: str) -> str:
    from realtime.redis_client import redis_key

    return redis_key("whip", "room", slug)
