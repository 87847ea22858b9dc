"""Input health for the supervisor: what the broadcaster sends and how we keep up.

Bitrate and frame rate are measured over media time since the previous report (what
the broadcaster actually sends, whatever its metadata claims); speed compares media
time with wall time. Damage is counted since the start: ``corrupt_packets`` (rejected
or flagged by the demuxer, skipped), ``decode_errors`` (packets the decoder rejected,
skipped), ``corrupt_frames`` (decoded with concealed errors; kept, because dropping
them would leave the encoded renditions without the frame a segment cut needs) and
``dropped_packets`` (impossible timestamps, refused by a muxer).
"""

import time
from dataclasses import dataclass


@dataclass
class _Window:
    wall_start: float
    media_start: float | None = None
    media_end: float | None = None
    input_bytes: int = 0
    video_frames: int = 0


class HealthMonitor:
    def __init__(self, *, width, height, video_codec, audio_codec, clock=time.monotonic) -> None:
        self._clock = clock
        self._stream_facts = {
            "width": width,
            "height": height,
            "video_codec": video_codec,
            "audio_codec": audio_codec,
        }
        self._window = _Window(wall_start=clock())
        self._last_keyframe: float | None = None
        self._keyframe_interval: float | None = None
        self._media_time = 0.0
        self.corrupt_packets = 0
        self.corrupt_frames = 0
        self.decode_errors = 0
        self.dropped_packets = 0

    def record_packet(self, size: int, media_seconds: float, *, video: bool, keyframe: bool):
        window = self._window
        window.input_bytes += size
        if video:
            # Frames are counted between the window's first timestamp and its last, so
            # the frame that opens the window (or closed the previous one) is not.
            if window.media_start is None:
                window.media_start = media_seconds
            else:
                window.video_frames += 1
            window.media_end = max(window.media_end or media_seconds, media_seconds)
            self._media_time = max(self._media_time, media_seconds)
            if keyframe:
                if self._last_keyframe is not None and media_seconds > self._last_keyframe:
                    self._keyframe_interval = media_seconds - self._last_keyframe
                self._last_keyframe = media_seconds

    def record_corrupt_packet(self) -> None:
        self.corrupt_packets += 1

    def record_corrupt_frame(self) -> None:
        self.corrupt_frames += 1

    def record_decode_error(self) -> None:
        self.decode_errors += 1

    def record_dropped_packet(self) -> None:
        self.dropped_packets += 1

    def due(self, every_seconds: float) -> bool:
        return self._clock() - self._window.wall_start >= every_seconds

    def report(self) -> dict:
        """The numbers since the previous report; starts a new window."""
        window = self._window
        now = self._clock()
        media_span = 0.0
        if window.media_start is not None and window.media_end is not None:
            media_span = window.media_end - window.media_start
        wall_span = max(now - window.wall_start, 1e-6)
        frame_rate = window.video_frames / media_span if media_span > 0 else 0.0
        self._window = _Window(wall_start=now, media_start=window.media_end)
        return {
            "input_bitrate": round(window.input_bytes * 8 / media_span) if media_span else 0,
            "fps": round(frame_rate, 2),
            **self._stream_facts,
            "keyframe_interval": _rounded(self._keyframe_interval),
            "speed": round(media_span / wall_span, 3),
            "media_time": round(self._media_time, 3),
            "corrupt_packets": self.corrupt_packets,
            "corrupt_frames": self.corrupt_frames,
            "decode_errors": self.decode_errors,
            "dropped_packets": self.dropped_packets,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
