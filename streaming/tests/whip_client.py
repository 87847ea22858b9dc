"""A WHIP publisher for tests: aiortc sending a moving test pattern and a tone.

Runs its own event loop on a thread, so synchronous tests (and the ORM they use) can
drive it: `publisher = WhipPublisher(url, key); response = publisher.start(); ...;
publisher.delete(); publisher.close()`.
"""

from __future__ import annotations

import asyncio
import fractions
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

VIDEO_CLOCK = 90000
FPS = 30


class TestPatternTrack(MediaStreamTrack):
    """320x240 frames whose brightness changes every frame (an encoder cannot skip them)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._index = 0
        self._start = None

    async def recv(self):
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        self._index += 1
        wait = self._start + self._index / FPS - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.VideoFrame(320, 240, "yuv420p")
        luma = bytes([(self._index * 4) % 220 + 16]) * frame.planes[0].buffer_size
        frame.planes[0].update(luma)
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = self._index * VIDEO_CLOCK // FPS
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class ToneTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0
        self._start = None

    async def recv(self):
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._samples / 48000 - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.pts, frame.sample_rate = self._samples, 48000
        frame.time_base = fractions.Fraction(1, 48000)
        self._samples += 960
        return frame


@dataclass
class WhipResponse:
    status: int
    headers: dict = field(default_factory=dict)
    body: str = ""


def http(method: str, url: str, body: bytes = b"", headers: dict | None = None) -> WhipResponse:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("tests talk to the local site only")
    request = urllib.request.Request(url, body or None, headers or {}, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return WhipResponse(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return WhipResponse(error.code, dict(error.headers), error.read().decode())


def ice_servers_from_links(link_header: str) -> list[RTCIceServer]:
    """The ICE servers a WHIP/WHEP answer offers (RFC 9725 section 4.6), as a client reads them."""
    servers = []
    for url, params in re.findall(r"<([^>]+)>([^<]*)", link_header):
        fields = dict(re.findall(r'([\w-]+)="([^"]*)"', params))
        if fields.get("rel") == "ice-server":
            servers.append(RTCIceServer(urls=url, username=fields.get("username"),
                                        credential=fields.get("credential")))  # fmt: skip
    return servers


class WhipPublisher:
    def __init__(
        self,
        endpoint: str,
        key: str,
        codec: str = "H264",
        audio: bool = True,
        ice_servers: list[RTCIceServer] | None = None,
        relay_only: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.key = key
        self.codec = codec
        self.audio = audio
        self.ice_servers = ice_servers or []
        # Relay candidates only (as a browser with iceTransportPolicy "relay"): every
        # packet then goes through the TURN server.
        self.relay_only = relay_only
        self.location: str | None = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.pc: RTCPeerConnection | None = None

    def _run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def offer(self) -> str:
        return self._run(self._offer())

    def start(self) -> WhipResponse:
        """Offer, POST, and (on 201) apply the answer; ICE then connects on its own."""
        offer = self.offer()
        response = http("POST", self.endpoint, offer.encode(), {
            "Content-Type": "application/sdp", "Authorization": f"Bearer {self.key}",
        })  # fmt: skip
        if response.status == 201:
            self.location = response.headers["Location"]
            self._run(self._answer(response.body))
        return response

    @property
    def connection_state(self) -> str:
        return self.pc.connectionState if self.pc else "new"

    def delete(self, base_url: str) -> WhipResponse:
        return http("DELETE", base_url + self.location)

    def close(self) -> None:
        if self.pc is not None:
            self._run(self.pc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    async def _offer(self) -> str:
        policy = RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
        configuration = RTCConfiguration(iceServers=self.ice_servers, iceTransportPolicy=policy)
        self.pc = RTCPeerConnection(configuration)
        video = self.pc.addTransceiver(TestPatternTrack(), direction="sendonly")
        codecs = RTCRtpSender.getCapabilities("video").codecs
        wanted = (f"video/{self.codec.lower()}", "video/rtx")
        video.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])
        if self.audio:
            self.pc.addTransceiver(ToneTrack(), direction="sendonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def _answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))


class WhepViewer:
    """A real-time viewer: offers to receive video and audio, counts decoded frames."""

    def __init__(self, endpoint: str, video: bool = True) -> None:
        self.endpoint = endpoint
        self.video = video
        self.answer = ""
        self.location: str | None = None
        self.frames = {"video": 0, "audio": 0}
        self.sizes: set[tuple[int, int]] = set()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.pc: RTCPeerConnection | None = None

    def _run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> WhipResponse:
        offer = self._run(self._offer())
        response = http("POST", self.endpoint, offer.encode(), {"Content-Type": "application/sdp"})
        if response.status == 201:
            self.location = response.headers["Location"]
            self.answer = response.body
            answer = RTCSessionDescription(sdp=response.body, type="answer")
            self._run(self.pc.setRemoteDescription(answer))
        return response

    def delete(self, base_url: str) -> WhipResponse:
        return http("DELETE", base_url + self.location)

    def close(self) -> None:
        if self.pc is not None:
            self._run(self.pc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    async def _offer(self) -> str:
        if self.pc is not None:
            await self.pc.close()  # a retried offer after a refusal
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if self.video:
            self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", lambda track: asyncio.ensure_future(self._count(track)))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def _count(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            self.frames[track.kind] += 1
            if track.kind == "video":
                self.sizes.add((frame.width, frame.height))
