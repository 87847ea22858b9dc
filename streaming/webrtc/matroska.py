"""Received WebRTC frames as one live Matroska stream, the transcoder's WHIP input.

Matroska is the one container PyAV streams through a pipe that holds every codec a
browser sends (H.264, VP8, Opus), so the transcoder can copy H.264 as it is and decode
the rest. FLV, the RTMP input, cannot carry VP8 or Opus.

Timing: each track's RTP timestamps count from its first frame (aiortc's
TimestampMapper); a track's first muxed frame is placed on the stream clock by its
arrival time, which keeps audio and video within a jitter buffer's delay of each other
without RTCP sender reports.
"""

from __future__ import annotations

import io
import struct
import time
from fractions import Fraction

import av

from streaming.webrtc.encoded_frames import EncodedFrame

MILLISECONDS = Fraction(1, 1000)
# The demuxer reads clusters as they are written: close one every 100 ms.
MUXER_OPTIONS = {"live": "1", "cluster_time_limit": "100", "flush_packets": "1"}
# RFC 7845 identification header; WebRTC Opus is 48 kHz stereo-capable, no pre-skip.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 0, 48000, 0, 0)
H264_IDR = 5


class _Collect(io.RawIOBase):
    def __init__(self) -> None:
        self.chunks = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks += data
        return len(data)


def is_keyframe(frame: EncodedFrame) -> bool:
    if frame.codec == "vp8":
        return bool(frame.data) and not frame.data[0] & 0x01
    if frame.codec == "h264":
        return any(nal_type == H264_IDR for nal_type in _h264_nal_types(frame.data))
    return True


def _h264_nal_types(data: bytes):
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        yield data[start + 3] & 0x1F
        start = data.find(b"\x00\x00\x01", start + 3)


class LiveMatroskaMuxer:
    """Feed `EncodedFrame`s with `add`; take the bytes written so far with `take`.

    The container starts at the first video keyframe (audio before it is dropped), so
    the transcoder's first packet is decodable and its source rendition starts clean.
    """

    def __init__(self, with_audio: bool, clock=time.monotonic) -> None:
        self.with_audio = with_audio
        self._clock = clock
        self._out = _Collect()
        self._container = None
        self._video = self._audio = None
        self._offsets: dict[str, int] = {}
        self._last_pts: dict[str, int] = {}
        self._started_at: float | None = None
        self.frames = 0

    def add(self, frame: EncodedFrame) -> None:
        kind = "audio" if frame.codec == "opus" else "video"
        if self._container is None:
            if kind == "audio" or not is_keyframe(frame):
                return
            self._open(frame.codec)
        stream = self._video if kind == "video" else self._audio
        if stream is None:
            return
        pts = self._pts(kind, frame)
        if pts is None:
            return
        packet = av.Packet(frame.data)
        packet.stream = stream
        packet.pts = packet.dts = pts
        packet.time_base = MILLISECONDS
        packet.is_keyframe = is_keyframe(frame)
        self._container.mux(packet)
        self.frames += 1

    def take(self) -> bytes:
        data = bytes(self._out.chunks)
        self._out.chunks.clear()
        return data

    def close(self) -> bytes:
        if self._container is not None:
            self._container.close()
            self._container = None
        return self.take()

    def _open(self, codec: str) -> None:
        self._container = av.open(self._out, "w", format="matroska", options=MUXER_OPTIONS)
        self._video = self._container.add_stream(codec)
        self._video.time_base = MILLISECONDS
        if self.with_audio:
            self._audio = self._container.add_stream("opus", rate=48000)
            self._audio.codec_context.extradata = OPUS_HEAD
            self._audio.time_base = MILLISECONDS
        self._started_at = self._clock()

    def _pts(self, kind: str, frame: EncodedFrame) -> int | None:
        media_ms = frame.timestamp * 1000 // frame.clock_rate
        if kind not in self._offsets:
            # The track's first muxed frame sits at its arrival time on the stream clock.
            arrived_ms = round((self._clock() - self._started_at) * 1000)
            self._offsets[kind] = arrived_ms - media_ms
        pts = self._offsets[kind] + media_ms
        if pts < self._last_pts.get(kind, -1):
            return None  # late or repeated frame: the muxer needs rising timestamps
        self._last_pts[kind] = pts
        return pts
