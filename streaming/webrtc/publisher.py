"""One WHIP publisher's peer connection, from the offer to the end of the stream.

    peer = WhipPeer(ice, on_media, on_end)
    answer = await peer.answer(offer_sdp)    # the SDP for the 201 response
    ...                                      # on_media(bytes): live Matroska, in order
    await peer.close("deleted")              # or: ICE failed, DTLS closed, never connected

`on_end(reason)` is awaited exactly once, whatever ends the peer. A peer that has not
connected within `IceSettings.connect_timeout` ends itself: its room must not stay
locked by a browser that went away before ICE finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from streaming.webrtc.encoded_frames import want_encoded_frames
from streaming.webrtc.matroska import LiveMatroskaMuxer
from streaming.webrtc.network import IceSettings, announce_public_address

logger = logging.getLogger("livesite.webrtc")

OnMedia = Callable[[bytes], Awaitable[None]]
OnEnd = Callable[[str], Awaitable[None]]


class WhipPeer:
    def __init__(self, ice: IceSettings, on_media: OnMedia, on_end: OnEnd, on_frame=None) -> None:
        self.ice = ice
        self.on_media = on_media
        self.on_end = on_end
        # Each encoded frame as received (the room's real-time viewers, relay.py).
        self.on_frame = on_frame or (lambda frame: None)
        self.connected = False
        self.ended = False
        self._pc = RTCPeerConnection(ice.configuration())
        self._muxer: LiveMatroskaMuxer | None = None
        self._with_audio = False
        self._write = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_state)

    async def answer(self, offer_sdp: str) -> str:
        offer = RTCSessionDescription(sdp=offer_sdp, type="offer")
        await self._pc.setRemoteDescription(offer)
        kinds = {t.kind for t in self._pc.getTransceivers()}
        self._with_audio = "audio" in kinds
        self._muxer = LiveMatroskaMuxer(with_audio=self._with_audio)
        for transceiver in self._pc.getTransceivers():
            transceiver.direction = "recvonly"
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        self._spawn(self._end_if_never_connected())
        sdp = self._pc.localDescription.sdp
        return announce_public_address(sdp, self.ice.public_address)

    async def close(self, reason: str) -> None:
        """End the peer (idempotent); `on_end(reason)` runs if it had not yet."""
        if self.ended:
            return
        self.ended = True
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        try:
            await self._pc.close()
        except Exception:  # a half-built peer may fail to close; it is gone either way
            logger.debug("closing a WHIP peer failed", exc_info=True)
        await self.on_end(reason)

    def restart_media(self) -> None:
        """A new transcoder takes over: start a new container at the next keyframe,
        and ask the browser for one now rather than at its next periodic keyframe."""
        self._muxer = LiveMatroskaMuxer(with_audio=self._with_audio)
        self.request_keyframe()

    def request_keyframe(self) -> None:
        if self.ended:
            return
        for receiver in self._pc.getReceivers():
            if receiver.track.kind == "video":
                for source in receiver.getSynchronizationSources():
                    # aiortc has no public call for a PLI (RFC 4585 6.3.1); this is it.
                    self._spawn(receiver._send_rtcp_pli(source.source))

    # --- internals ----------------------------------------------------------------

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_track(self, track) -> None:
        want_encoded_frames(track)
        self._spawn(self._pump(track))

    async def _on_state(self) -> None:
        state = self._pc.connectionState
        if state == "connected":
            self.connected = True
        elif state in ("failed", "closed"):
            await self.close(f"connection {state}")

    async def _end_if_never_connected(self) -> None:
        await asyncio.sleep(self.ice.connect_timeout)
        if not self.connected:
            await self.close("never connected")

    async def _pump(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            self.on_frame(frame)
            async with self._write:
                muxer = self._muxer
                try:
                    muxer.add(frame)
                except Exception:  # a frame the muxer rejects is dropped, not fatal
                    logger.debug("WHIP frame dropped", exc_info=True)
                    continue
                data = muxer.take()
                if data and not self.ended:
                    await self.on_media(data)
        self._spawn(self.close("the publisher's track ended"))
