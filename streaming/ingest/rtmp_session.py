"""The publish session of one RTMP connection (compare whip.WhipSession)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streaming.ingest.live_room import LiveRoom
from streaming.ingest.transcoder_process import TranscoderGone
from streaming.webrtc.flv_source import FlvRealtimeSource

if TYPE_CHECKING:
    from streaming.ingest.service import Ingest


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
