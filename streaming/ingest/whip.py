"""WHIP publishers in the ingest: the same rooms, live lock and transcoders as RTMP.

The web process checks the offer and hands it over (streaming/ingest/offers.py); here
the key is checked with the same calls as RTMP (`Ingest.room_for_publish`,
`Ingest.accept_publish`), aiortc answers, and the received frames go, as live
Matroska, into the room's transcoder. A session is named `<ingest id>-<token>`, so a
DELETE reaches the ingest that holds it.
"""

from __future__ import annotations

import logging
import secrets

from streaming.ingest.transcoder_process import TranscoderGone
from streaming.webrtc.network import IceSettings
from streaming.webrtc.publisher import WhipPeer

logger = logging.getLogger("livesite.ingest")


class WhipSession:
    """The `PublishSession` of one WHIP peer (compare service.PublisherSession)."""

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
            await self.whip.ingest.transcoder_died(self.live, self)

    async def on_end(self, reason: str) -> None:
        self.whip.sessions.pop(self.session_id, None)
        logger.info("WHIP session %s closed: %s", self.session_id, reason)
        if self.live is not None:
            await self.whip.ingest.publisher_left(self.live, self, reason)

    async def drop(self, reason: str) -> None:
        await self.peer.close(reason)

    async def restart_input(self) -> None:
        self.peer.restart_media()


class WhipPublishers:
    """This ingest's WHIP sessions, by id."""

    def __init__(self, ingest, ice: IceSettings) -> None:
        self.ingest = ingest
        self.ice = ice
        self.ingest_id = secrets.token_hex(6)
        self.sessions: dict[str, WhipSession] = {}

    async def publish(self, stream_key: str, offer: str) -> tuple[str, str]:
        """(session id, SDP answer); raises service.PublishRefused, or ValueError for an
        offer aiortc cannot answer."""
        room = await self.ingest.room_for_publish(stream_key)
        session_id = f"{self.ingest_id}-{secrets.token_urlsafe(12)}"
        session = None
        peer = WhipPeer(self.ice, lambda data: session.on_media(data), lambda r: session.on_end(r))
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
        logger.info("room %s: WHIP session %s accepted", room.slug, session_id)
        return session_id, answer

    async def end(self, session_id: str) -> bool:
        session = self.sessions.get(session_id)
        if session is None:
            return False
        await session.drop("ended by the publisher (DELETE)")
        return True

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            await session.drop("server shutting down")
