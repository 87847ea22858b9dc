"""RTMP publishers in the ingest: the RTMP server's authorize callback and its sessions.

The RTMP server (streaming/rtmp) knows no rooms: it asks `RtmpPublishers.authorize` for
a `PublishSession` and feeds it FLV. Here the application name and the key are checked
with the same calls as WHIP (authorize.py, `Ingest.accept_publish`), a refusal becomes
RTMP's `NetStream.Publish.BadName`, and the FLV goes to the room's transcoder and, as
encoded frames, to its real-time (WHEP) viewers (compare whip.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from streaming.ingest.authorize import room_for_publish
from streaming.ingest.errors import PublishRefused
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.transcoder_process import TranscoderGone
from streaming.rtmp.server import PublishRejected
from streaming.webrtc.flv_source import FlvRealtimeSource

if TYPE_CHECKING:
    from streaming.ingest.service import Ingest

logger = logging.getLogger("livesite.ingest")

BAD_NAME = "NetStream.Publish.BadName"


class RtmpPublishers:
    """The `authorize` callback of this ingest's `RtmpServer`."""

    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest

    async def authorize(self, app: str, stream_key: str, peer: str) -> RtmpSession:
        ingest = self.ingest
        try:
            if app != ingest.settings.app:
                raise PublishRefused(PublishRefused.UNKNOWN_KEY, "unknown application")
            room = await room_for_publish(stream_key)
            session = await ingest.accept_publish(room, lambda live: RtmpSession(ingest, live))
            await ingest.whip.announce_room(room.slug)
            return session
        except PublishRefused as refused:
            # The RTMP server logs a key fingerprint; this line says why (never the key).
            logger.info("publish from %s refused: %s", peer, refused.description)
            raise PublishRejected(BAD_NAME, refused.description) from None


class RtmpSession:
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
            await self.ingest.transcoders.died(self.live, self)

    async def on_close(self, reason: str) -> None:
        await self.ingest.whip.viewers.source_ended(self.live.room_id)
        await self.ingest.whip.forget_room(self.live.slug)
        await self.ingest.publisher_left(self.live, self, reason)
