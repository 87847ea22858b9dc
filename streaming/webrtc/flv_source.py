"""A room live from RTMP, as encoded frames for its real-time (WHEP) viewers.

The RTMP publisher's FLV tags are turned into the `EncodedFrame`s the relay
(relay.py) forwards to every viewer:

- **Video is forwarded, never encoded**, when WebRTC can take it as it is: H.264 in
  the Baseline, Main or High profile (8-bit 4:2:0) without B-frames. FLV carries
  AVC as length-prefixed NAL units with the SPS and PPS in a separate sequence
  header; WebRTC's packetizer (RFC 6184, packetization-mode 1) wants Annex B access
  units with the SPS and PPS in front of each IDR, so a decoder can start at any
  keyframe. That is framing only, done here per frame, once per room.
- **B-frames** (any non-zero composition time in the FLV) cannot be sent over
  WebRTC: receivers render in decode order. Such a source, or one in a profile a
  browser may not decode (High 10, 4:2:2, 4:4:4), is marked unsuitable and its video
  comes from the transcoder instead (`--realtime-fd`, see docs/video.md).
- **Audio is encoded once per room**: AAC (the only audio RTMP publishers send us)
  is decoded and encoded to Opus by one `OpusFromAac` per room, and only while the
  room has at least one real-time listener. Every viewer's track shares its packets.

Hand-written because it is a few dozen lines of framing over PyAV's codecs; the
FLV demuxer in libavformat would need a file-like pipe and a thread per room, and it
would add its own buffering to the path whose point is latency.
"""

from __future__ import annotations

import logging
from fractions import Fraction

import av
import av.error
from prometheus_client import Counter

from streaming.ingest.flv_resume import AUDIO_TAG, TAG_HEADER_SIZE, VIDEO_TAG, split_tags
from streaming.webrtc.encoded_frames import EncodedFrame

logger = logging.getLogger("livesite.webrtc")

AVC = 7
AAC = 10
SEQUENCE_HEADER = 0
KEYFRAME = 1
VIDEO_CLOCK = 90_000
OPUS_CLOCK = 48_000
OPUS_FRAME_SAMPLES = 960  # 20 ms, what browsers send and expect
OPUS_BITRATE = 96_000
START_CODE = b"\x00\x00\x00\x01"
NAL_SPS, NAL_PPS = 7, 8
# Profiles every WebRTC H.264 decoder we know of (browsers' and aiortc's, all FFmpeg or
# OpenH264 based) decodes when there are no B-frames: Baseline, Main, High (8-bit 4:2:0).
FORWARDED_PROFILES = {66: "Baseline", 77: "Main", 100: "High"}

OPUS_ENCODERS_STARTED = Counter(
    "livesite_whep_audio_encoders_started_total",
    "AAC-to-Opus encoders started for real-time viewers of RTMP rooms (one per room)",
)
OPUS_PACKETS_ENCODED = Counter(
    "livesite_whep_audio_packets_encoded_total",
    "Opus packets encoded for real-time viewers of RTMP rooms",
)


class AvcConfig:
    """An AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1): the SPS and PPS."""

    def __init__(self, record: bytes) -> None:
        if len(record) < 7 or record[0] != 1:
            raise ValueError("not an AVC decoder configuration record")
        self.profile = record[1]
        self.length_size = (record[4] & 0x03) + 1
        offset, parameter_sets = 5, []
        for count_mask in (0x1F, 0xFF):
            count = record[offset] & count_mask
            offset += 1
            for _ in range(count):
                size = int.from_bytes(record[offset : offset + 2], "big")
                parameter_set = record[offset + 2 : offset + 2 + size]
                if len(parameter_set) != size:
                    raise ValueError("truncated AVC decoder configuration record")
                parameter_sets.append(parameter_set)
                offset += 2 + size
            if offset >= len(record):
                break
        self.annex_b = b"".join(START_CODE + p for p in parameter_sets)


def annex_b(data: bytes, length_size: int) -> tuple[bytes, set[int]]:
    """Length-prefixed NAL units as Annex B, and the NAL unit types seen."""
    out, types, offset = [], set(), 0
    while offset + length_size <= len(data):
        size = int.from_bytes(data[offset : offset + length_size], "big")
        offset += length_size
        nal = data[offset : offset + size]
        offset += size
        if not nal:
            continue
        types.add(nal[0] & 0x1F)
        out.append(START_CODE + nal)
    return b"".join(out), types


class OpusFromAac:
    """AAC access units in, Opus packets out (48 kHz stereo, 20 ms), for one room."""

    def __init__(self, audio_specific_config: bytes) -> None:
        self._decoder = av.CodecContext.create("aac", "r")
        self._decoder.extradata = audio_specific_config
        self._resampler = av.AudioResampler(
            format="s16", layout="stereo", rate=OPUS_CLOCK, frame_size=OPUS_FRAME_SAMPLES
        )
        self._encoder = av.CodecContext.create("libopus", "w")
        self._encoder.sample_rate = OPUS_CLOCK
        self._encoder.layout = "stereo"
        self._encoder.format = "s16"
        self._encoder.bit_rate = OPUS_BITRATE
        self._encoder.time_base = Fraction(1, OPUS_CLOCK)
        self._next_pts: int | None = None
        OPUS_ENCODERS_STARTED.inc()

    def encode(self, aac: bytes, milliseconds: int) -> list[EncodedFrame]:
        if self._next_pts is None:
            self._next_pts = milliseconds * (OPUS_CLOCK // 1000)
        frames = []
        for decoded in self._decoder.decode(av.Packet(aac)):
            for resampled in self._resampler.resample(decoded):
                resampled.pts = self._next_pts
                self._next_pts += resampled.samples
                for packet in self._encoder.encode(resampled):
                    frames.append(EncodedFrame("opus", bytes(packet), packet.pts, OPUS_CLOCK))
        OPUS_PACKETS_ENCODED.inc(len(frames))
        return frames

    def restart_clock(self) -> None:
        """After a gap with nobody listening: the next packet takes its own time."""
        self._next_pts = None


class FlvRealtimeSource:
    """Feed it the publisher's FLV; it pushes frames to `relay` (an `EncodedRelay`)."""

    def __init__(self, relay) -> None:
        self.relay = relay
        self.avc: AvcConfig | None = None
        self.has_b_frames = False
        self._audio_config: bytes | None = None
        self._opus: OpusFromAac | None = None
        self._was_listening = False
        self._transcoder_feeds_video = False

    @property
    def unsuitable_video(self) -> str | None:
        """Why the source's own H.264 cannot go to WebRTC viewers, or None."""
        if self.avc is None:
            return None
        if self.has_b_frames:
            return "the broadcaster's video has B-frames"
        if self.avc.profile not in FORWARDED_PROFILES:
            return f"the broadcaster's H.264 profile ({self.avc.profile}) is not forwarded"
        return None

    def feed(self, data: bytes) -> None:
        _, tags = split_tags(data)
        for tag in tags:
            try:
                self._on_tag(tag)
            except (ValueError, IndexError, av.error.FFmpegError):
                # A damaged tag costs the real-time viewers a frame, nothing more; the
                # transcoder judges the stream's health.
                logger.debug("real-time: FLV tag skipped", exc_info=True)

    def _on_tag(self, tag: bytes) -> None:
        body = tag[TAG_HEADER_SIZE:-4]
        if len(body) < 2:
            return
        milliseconds = int.from_bytes(tag[4:7], "big") | (tag[7] << 24)
        if tag[0] == VIDEO_TAG and body[0] & 0x0F == AVC:
            self._on_video(body, milliseconds)
        elif tag[0] == AUDIO_TAG and body[0] >> 4 == AAC:
            self._on_audio(body, milliseconds)

    def _on_video(self, body: bytes, milliseconds: int) -> None:
        if body[1] == SEQUENCE_HEADER:
            self.avc = AvcConfig(body[5:])
            self._announce()
            return
        if len(body) < 5 or self.avc is None:
            return
        if int.from_bytes(body[2:5], "big", signed=True) != 0 and not self.has_b_frames:
            self.has_b_frames = True
            self._announce()
        if self.unsuitable_video is not None:
            return
        data, types = annex_b(body[5:], self.avc.length_size)
        if not data:
            return
        if body[0] >> 4 == KEYFRAME and NAL_SPS not in types:
            data = self.avc.annex_b + data
        self.relay.push(EncodedFrame("h264", data, milliseconds * 90, VIDEO_CLOCK))

    def _on_audio(self, body: bytes, milliseconds: int) -> None:
        if body[1] == SEQUENCE_HEADER:
            if body[2:] != self._audio_config:
                self._audio_config = bytes(body[2:])
                self._opus = None
            self.relay.codecs["audio"] = "opus"
            return
        listening = self.relay.has_listeners("audio")
        if not listening or self._audio_config is None:
            self._was_listening = False
            return
        if self._opus is None:
            self._opus = OpusFromAac(self._audio_config)
        elif not self._was_listening:
            self._opus.restart_clock()
        self._was_listening = True
        for frame in self._opus.encode(body[2:], milliseconds):
            self.relay.push(frame)

    def from_transcoder(self, keyframe: bool, pts: int, data: bytes) -> None:
        """A packet of the transcoder's real-time rendition (no B-frames): the viewers'
        video when the source's own cannot be forwarded."""
        if self.unsuitable_video is None:
            return
        if not self._transcoder_feeds_video:
            self._transcoder_feeds_video = True
            self._announce()
        self.relay.push(EncodedFrame("h264", data, pts, VIDEO_CLOCK))

    def _announce(self) -> None:
        why = self.unsuitable_video
        if why is None or self._transcoder_feeds_video:
            self.relay.codecs["video"] = "h264"
            self.relay.unsuitable = None
        else:
            self.relay.codecs.pop("video", None)
            self.relay.unsuitable = f"{why} and no B-frame-free rendition is being encoded"
