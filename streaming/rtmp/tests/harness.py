"""What the RTMP tests share: the application side of the server, and a running server.

`Broadcasts` plays the Livesite application: it knows the cast's stream keys, records
every `authorize` call and collects each publish's FLV bytes in a `RecordedSession`.
Tests run their own event loop with `asyncio.run` (no pytest-asyncio), so the async
fixtures are plain async context managers here.
"""

from __future__ import annotations

import asyncio
import io
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import av

from streaming.rtmp.errors import PublishRejected
from streaming.rtmp.messages import MessageType
from streaming.rtmp.server import RtmpServer, ServerLimits

# The cast: three broadcasters and their current stream keys.
ALICE_KEY = "alice-4f9c2e7a1b"
BOB_KEY = "bob-8d3a6c0e5f"
CHARLIE_KEY = "charlie-1e7b9d2f4a"
CAST = {ALICE_KEY: "alice", BOB_KEY: "bob", CHARLIE_KEY: "charlie"}

# Short enough that hostile clients are cut quickly, long enough for a busy CI machine.
TEST_LIMITS = ServerLimits(handshake_timeout=1.0, idle_timeout=2.0, publish_timeout=4.0)


@dataclass
class RecordedSession:
    broadcaster: str
    flv: bytearray = field(default_factory=bytearray)
    close_reasons: list[str] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    flv_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_flv(self, data: bytes) -> None:
        self.flv += data
        self.flv_arrived.set()

    async def on_close(self, reason: str) -> None:
        self.close_reasons.append(reason)
        self.closed.set()


@dataclass
class Broadcasts:
    """The application's side: checks keys against the cast and records sessions."""

    keys: dict[str, str] = field(default_factory=lambda: dict(CAST))
    authorize_calls: list[tuple[str, str, str]] = field(default_factory=list)
    sessions: dict[str, RecordedSession] = field(default_factory=dict)

    async def authorize(self, app: str, stream_key: str, peer: str) -> RecordedSession:
        self.authorize_calls.append((app, stream_key, peer))
        broadcaster = self.keys.get(stream_key)
        if app != "live" or broadcaster is None:
            raise PublishRejected("NetStream.Publish.BadName", "Unknown stream key.")
        session = RecordedSession(broadcaster)
        self.sessions[broadcaster] = session
        return session

    async def session_of(self, broadcaster: str, timeout: float = 10.0) -> RecordedSession:
        """Wait until `broadcaster` is publishing and their first FLV bytes arrived."""
        async with asyncio.timeout(timeout):
            while broadcaster not in self.sessions:
                await asyncio.sleep(0.02)
            await self.sessions[broadcaster].flv_arrived.wait()
        return self.sessions[broadcaster]


@asynccontextmanager
async def running_server(
    broadcasts: Broadcasts, limits: ServerLimits = TEST_LIMITS
) -> AsyncIterator[RtmpServer]:
    server = RtmpServer("127.0.0.1", 0, broadcasts.authorize, limits)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@dataclass
class DecodedFlv:
    width: int | None
    height: int | None
    video_packets: int
    audio_packets: int
    video_seconds: float
    audio_seconds: float


def decode_flv(data: bytes) -> DecodedFlv:
    """Demux and decode an FLV byte stream with PyAV, as the transcoder will."""
    video_times: list[float] = []
    audio_times: list[float] = []
    width = height = None
    with av.open(io.BytesIO(bytes(data)), format="flv") as container:
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            times = video_times if packet.stream.type == "video" else audio_times
            times.append(float(packet.pts * packet.time_base))
            for frame in packet.decode():
                if packet.stream.type == "video":
                    width, height = frame.width, frame.height
    return DecodedFlv(
        width=width,
        height=height,
        video_packets=len(video_times),
        audio_packets=len(audio_times),
        video_seconds=_span(video_times),
        audio_seconds=_span(audio_times),
    )


def _span(times: list[float]) -> float:
    return max(times) - min(times) if times else 0.0


def hand_built_chunk(
    fmt,
    csid,
    timestamp=0,
    length=0,
    type_id=MessageType.VIDEO,
    stream_id=1,
    body=b"",
    extended=None,
):
    """One chunk built by hand, so the tests do not trust our encoder."""
    if csid < 64:
        out = bytes([fmt << 6 | csid])
    elif csid < 320:
        out = bytes([fmt << 6, csid - 64])
    else:
        out = bytes([fmt << 6 | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])
    if fmt <= 2:
        out += timestamp.to_bytes(3, "big")
    if fmt <= 1:
        out += length.to_bytes(3, "big") + bytes([type_id])
    if fmt == 0:
        out += struct.pack("<I", stream_id)
    if extended is not None:
        out += struct.pack(">I", extended)
    return out + body
