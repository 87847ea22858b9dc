"""Real-time viewers (WHEP) of the rooms this ingest holds, live from WHIP or RTMP.

Each viewer gets its own peer connection whose tracks forward the room's encoded
frames (streaming/webrtc/relay.py), with no encode per viewer:
- from a WHIP publisher, its H.264 or VP8 and its Opus as it sent them;
- from an RTMP publisher, its H.264 reframed as Annex B, or, when that has B-frames,
  the transcoder's real-time rendition (streaming/webrtc/flv_source.py); its AAC
  encoded to Opus once per room.
A room whose video cannot be forwarded is refused with 409, and a viewer over the
ingest's limits (whep_admission.py) with 503 and Retry-After; the room page then stays
on HLS.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from prometheus_client import Counter

from streaming.ingest.whep_admission import ViewerRefused, WhepAdmission, WhepLimits
from streaming.webrtc.network import IceSettings, announce_public_address
from streaming.webrtc.relay import EncodedRelay

logger = logging.getLogger("livesite.ingest")

WHEP_REFUSED = Counter(
    "livesite_whep_viewers_refused_total",
    "Real-time viewers refused because the ingest had its most viewers or joins (503)",
)


class WatchRefused(Exception):
    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


class WhepViewers:
    def __init__(
        self, ingest, ice: IceSettings, ingest_id: str, limits: WhepLimits | None = None
    ) -> None:
        self.ingest = ingest
        self.ice = ice
        self.ingest_id = ingest_id
        self.relays: dict[int, EncodedRelay] = {}
        self.sessions: dict[str, tuple[int, RTCPeerConnection]] = {}
        self.admission = WhepAdmission(limits or WhepLimits())
        self._joining = 0  # offers being answered, not yet in `sessions`
        self._ending: set[asyncio.Task] = set()

    def relay_for(self, room_id: int) -> EncodedRelay:
        relay = self.relays.get(room_id)
        if relay is None:
            relay = self.relays[room_id] = EncodedRelay()
        return relay

    async def watch(self, slug: str, offer: str) -> tuple[str, str]:
        live = next((v for v in self.ingest.live.values() if v.slug == slug), None)
        if live is None or live.session is None:
            raise WatchRefused(404, "the room is not live on this server")
        relay = self.relays.get(live.room_id)
        if relay is None or "video" not in relay.codecs:
            why = (relay.unsuitable if relay else None) or "the room's video has not started yet"
            raise WatchRefused(409, f"real-time viewing is not available: {why}; use HLS")
        try:
            self.admission.admit(len(self.sessions) + self._joining)
        except ViewerRefused as refused:
            WHEP_REFUSED.inc()
            raise WatchRefused(503, f"{refused.reason}; use HLS", refused.retry_after) from None
        self._joining += 1
        try:
            return await self._answer(live.room_id, relay, offer)
        finally:
            self._joining -= 1

    async def _answer(self, room_id: int, relay: EncodedRelay, offer: str) -> tuple[str, str]:
        pc = RTCPeerConnection(self.ice.configuration())
        session_id = f"{self.ingest_id}-{secrets.token_urlsafe(12)}"
        try:
            # Our transceivers first, limited to the source's codec: aiortc picks the
            # codecs when it applies the offer, and the viewer must get the codec the
            # publisher sends (there is no encoder on this path).
            for kind, codec in relay.codecs.items():
                transceiver = pc.addTransceiver(relay.subscribe(kind), direction="sendonly")
                transceiver.setCodecPreferences(_codecs(kind, codec))
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as error:
            await self._close(pc)
            raise WatchRefused(400, f"the offer cannot be answered: {error}") from None
        self.sessions[session_id] = (room_id, pc)
        pc.on("connectionstatechange", lambda: self._on_state(session_id, pc))
        asyncio.get_running_loop().call_later(
            self.ice.connect_timeout, self._end_if_unconnected, session_id, pc
        )
        return session_id, announce_public_address(pc.localDescription.sdp, self.ice.public_address)

    async def end(self, session_id: str) -> bool:
        found = self.sessions.pop(session_id, None)
        if found is None:
            return False
        await self._close(found[1])
        return True

    async def source_ended(self, room_id: int) -> None:
        """The room's publisher left: its viewers go back to HLS."""
        relay = self.relays.pop(room_id, None)
        if relay is not None:
            relay.close()
        for session_id, (viewed, _) in list(self.sessions.items()):
            if viewed == room_id:
                await self.end(session_id)

    async def close(self) -> None:
        for session_id in list(self.sessions):
            await self.end(session_id)

    async def _on_state(self, session_id: str, pc: RTCPeerConnection) -> None:
        if pc.connectionState in ("failed", "closed"):
            await self.end(session_id)

    def _end_if_unconnected(self, session_id: str, pc: RTCPeerConnection) -> None:
        if pc.connectionState != "connected" and session_id in self.sessions:
            task = asyncio.ensure_future(self.end(session_id))
            self._ending.add(task)
            task.add_done_callback(self._ending.discard)

    async def _close(self, pc: RTCPeerConnection) -> None:
        for sender in pc.getSenders():
            if sender.track is not None:
                sender.track.stop()
        try:
            await pc.close()
        except Exception:
            logger.debug("closing a WHEP peer failed", exc_info=True)


def _codecs(kind: str, codec: str) -> list:
    wanted = (f"{kind}/{codec}", f"{kind}/rtx")
    return [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in wanted]
