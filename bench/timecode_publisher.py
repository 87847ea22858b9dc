"""A WHIP publisher for the glass-to-glass bench: aiortc sending frames that carry the
wall clock at which they were made, painted like bench_glass_to_glass.py's ffmpeg
filter does (24 black/white squares across the top, the low 24 bits of the
milliseconds), at 640x360 so the squares are 20 px (the reader scales by width/1280).

Runs its own event loop on a thread: `publisher.start()`, ..., `publisher.stop()`.
"""

from __future__ import annotations

import asyncio
import fractions
import threading
import time

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

WIDTH, HEIGHT, FPS = 640, 360, 30
BITS, SQUARE = 24, 20
BLACK, WHITE, GREY = 16, 235, 128
VIDEO_CLOCK = 90_000


def painted_luma(milliseconds: int, line_size: int) -> bytes:
    row = bytearray([GREY]) * line_size
    for bit in range(BITS):
        value = WHITE if milliseconds >> bit & 1 else BLACK
        row[bit * SQUARE : (bit + 1) * SQUARE] = bytes([value]) * SQUARE
    rest = bytes([GREY]) * line_size * (HEIGHT - SQUARE)
    return bytes(row) * SQUARE + rest


class TimecodeTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._index = 0
        self._start: float | None = None

    async def recv(self):
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        self._index += 1
        wait = self._start + self._index / FPS - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        luma = frame.planes[0]
        luma.update(painted_luma(int(time.time() * 1000) % (1 << BITS), luma.line_size))
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = self._index * VIDEO_CLOCK // FPS
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class TimecodePublisher:
    def __init__(self, endpoint: str, key: str) -> None:
        self.endpoint = endpoint
        self.key = key
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.pc: RTCPeerConnection | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)

    def stop(self) -> None:
        if self.pc is not None:
            asyncio.run_coroutine_threadsafe(self.pc.close(), self.loop).result(30)
            self.pc = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    async def _start(self) -> None:
        from streaming.tests.whip_client import http
        from streaming.webrtc.network import IceSettings

        self.pc = RTCPeerConnection(IceSettings().configuration())
        video = self.pc.addTransceiver(TimecodeTrack(), direction="sendonly")
        h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if "H264" in c.mimeType]
        video.setCodecPreferences(h264)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {self.key}"}
        offer = self.pc.localDescription.sdp.encode()
        response = await asyncio.to_thread(http, "POST", self.endpoint, offer, headers)
        if response.status != 201:
            raise RuntimeError(f"WHIP refused: {response.status} {response.body}")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=response.body, type="answer"))
