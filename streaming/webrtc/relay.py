"""One room's encoded source frames, forwarded to every real-time (WHEP) viewer.

No viewer costs an encode: each received frame becomes one `av.Packet`, shared by every
viewer's track; aiortc's senders send an `av.Packet` as it is, and its RTP payloads
(H.264 FU-A/STAP-A, Opus) are cut once for all viewers (shared_packing.py), so what a
viewer costs is its own RTP headers and SRTP. Audio is the publisher's Opus, forwarded
the same way, so a room's audio is never encoded at all on this path.

Each viewer's sender is driven from here (direct_sending.py): `push` hands the frame to
every viewer's sender in turn, which packs, encrypts and sends it at once, with no queue
and no task of its own per viewer. A track whose sender is aiortc's own (none in the
ingest; a test may build one) gets the frame through its queue instead.

A viewer starts at a video keyframe (the relay asks the publisher for one when a viewer
joins), and a viewer too slow to keep up (its socket's backlog, or its queue, is full)
loses its frames until the next keyframe rather than slowing the others down or growing
without bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from prometheus_client import Histogram

from streaming.webrtc import direct_sending, ntp_clock, shared_packing, udp_batching  # noqa: F401  (per-packet costs)
from streaming.webrtc.encoded_frames import EncodedFrame
from streaming.webrtc.matroska import is_keyframe

VIEWER_QUEUE_FRAMES = 60  # about 2 s of video; more means the viewer fell behind
KEYFRAME_WANTED_INTERVAL = 1.0  # seconds between keyframes asked for by a room's viewers

FRAME_DELAY = Histogram(
    "livesite_whep_frame_delay_seconds",
    "From a video frame reaching the room's relay to its being sent to a viewer",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2),
)


class ForwardedTrack(MediaStreamTrack):
    def __init__(self, relay: EncodedRelay, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._relay = relay
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=VIEWER_QUEUE_FRAMES)
        self._need_keyframe = kind == "video"
        self._direct: direct_sending.DirectSender | None = None

    def attach_direct_sender(self, sender: direct_sending.DirectSender) -> None:
        """From now on, frames go to `sender` as they come instead of to the queue.

        What the queue holds, the frames offered while the viewer's connection was being
        set up, goes first: video from its newest keyframe (the one asked for when the
        viewer joined, or a later one; older frames would only delay the picture), audio
        all of it."""
        queued = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                queued.append(item)
        if self.kind == "video":
            starts = [index for index, (_, _, keyframe) in enumerate(queued) if keyframe]
            queued = queued[starts[-1] :] if starts else []
        self._direct = sender
        sender.keyframe_wanted = self._relay.keyframe_wanted
        for packet, arrived, _ in queued:
            self._send_direct(sender, packet, arrived)

    def offer(self, packet: av.Packet, keyframe: bool, arrived: float) -> None:
        if self._need_keyframe:
            if not keyframe:
                return
            self._need_keyframe = False
        direct = self._direct
        if direct is not None:
            self._send_direct(direct, packet, arrived)
            return
        try:
            self._queue.put_nowait((packet, arrived, keyframe))
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._fell_behind()

    def _send_direct(self, direct, packet: av.Packet, arrived: float) -> None:
        sent = direct.send(packet)
        if sent:
            if self.kind == "video":
                FRAME_DELAY.observe(time.monotonic() - arrived)
        elif sent is False:
            self._fell_behind()

    def _fell_behind(self) -> None:
        if self.kind == "video":
            self._need_keyframe = True
            self._relay.request_keyframe()

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            raise MediaStreamError
        packet, arrived, _ = item
        if self.kind == "video":
            FRAME_DELAY.observe(time.monotonic() - arrived)
        return packet

    def stop(self) -> None:
        super().stop()
        self._relay.tracks.discard(self)
        if self._direct is not None:
            self._direct.end()


class EncodedRelay:
    def __init__(self) -> None:
        self.tracks: set[ForwardedTrack] = set()
        self.codecs: dict[str, str] = {}  # kind -> codec of the source ("h264", "opus")
        # Why the source's video cannot be forwarded (flv_source.py), if it cannot.
        self.unsuitable: str | None = None
        self.request_keyframe: Callable[[], None] = lambda: None
        self._keyframe_wanted_at = -KEYFRAME_WANTED_INTERVAL

    def has_listeners(self, kind: str) -> bool:
        return any(track.kind == kind for track in self.tracks)

    def push(self, frame: EncodedFrame) -> None:
        kind = "audio" if frame.codec == "opus" else "video"
        self.codecs[kind] = frame.codec
        if not self.tracks:
            return
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = Fraction(1, frame.clock_rate)
        keyframe = is_keyframe(frame)
        arrived = time.monotonic()
        for track in list(self.tracks):
            if track.kind == kind:
                track.offer(packet, keyframe, arrived)

    def keyframe_wanted(self) -> None:
        """A viewer lost its picture (its RTCP PLI or FIR): ask the publisher for a
        keyframe, for every viewer of the room at most once a `KEYFRAME_WANTED_INTERVAL`,
        since each is sent to them all. (An RTMP publisher cannot be asked: its next
        keyframe comes when its encoder sends one.)"""
        now = time.monotonic()
        if now - self._keyframe_wanted_at >= KEYFRAME_WANTED_INTERVAL:
            self._keyframe_wanted_at = now
            self.request_keyframe()

    def subscribe(self, kind: str) -> ForwardedTrack:
        track = ForwardedTrack(self, kind)
        self.tracks.add(track)
        if kind == "video":
            self.request_keyframe()
        return track

    def close(self) -> None:
        for track in list(self.tracks):
            track._queue.put_nowait(None) if not track._queue.full() else None
            track.stop()
