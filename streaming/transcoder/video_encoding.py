"""One encoded video rendition: scale the decoded source, encode it with libx264.

The expensive parts run in C without the GIL: swscale (threaded, one reusable
``VideoReformatter`` per rendition so its scaler context is built once) and libx264
(frame threads). What stays in Python per frame is a handful of attribute writes.
"""

from fractions import Fraction

import av
from av.video.frame import PictureType
from av.video.reformatter import Interpolation, VideoReformatter

from streaming.transcoder.encoder_stream import new_encoder_stream
from streaming.transcoder.ladder import Rendition
from streaming.transcoder.segment_clock import CutSchedule

CONSTANT_RATE_FACTOR = 23
# Bicubic is what the ffmpeg CLI's scale filter uses by default; same quality, and a
# fair comparison in bench/bench_transcoder.py.
INTERPOLATION = Interpolation.BICUBIC
# 0 lets libx264 and swscale pick from the core count, as the ffmpeg CLI does.
AUTOMATIC_THREADS = 0


class RenditionVideoEncoder:
    def __init__(
        self,
        rendition: Rendition,
        *,
        time_base: Fraction,
        frame_rate: Fraction,
        segment_seconds: float,
        preset: str,
        cuts: CutSchedule,
        b_frames: bool = True,
    ) -> None:
        self.rendition = rendition
        self._time_base = time_base
        self._cuts = cuts
        self._reformatter = VideoReformatter()
        self._last_pts: int | None = None
        self.stream = new_encoder_stream(
            "libx264",
            frame_rate,
            lambda stream: _configure_x264(
                stream, rendition, time_base, frame_rate, segment_seconds, preset, b_frames
            ),
        )
        self._context = self.stream.codec_context

    def encode(self, frame: av.VideoFrame) -> list[av.Packet]:
        """Packets for ``frame`` (often none yet: x264 looks ahead); [] for a frame whose
        timestamp does not advance, which libx264 would reject."""
        if frame.pts is None or (self._last_pts is not None and frame.pts <= self._last_pts):
            return []
        self._last_pts = frame.pts
        scaled = self._reformatter.reformat(
            frame,
            self.rendition.width,
            self.rendition.height,
            "yuv420p",
            interpolation=INTERPOLATION,
            threads=AUTOMATIC_THREADS,
        )
        scaled.pts = frame.pts
        scaled.time_base = self._time_base
        # A decoded frame carries the source's picture type, and libx264 obeys it
        # (an I in the source would become a keyframe here, a B a B-frame), which is
        # why the ffmpeg CLI resets it before encoding. We reset it too, except where
        # the segment clock wants a keyframe.
        due = self._cuts.take_due(frame.pts)
        scaled.pict_type = PictureType.I if due else PictureType.NONE
        return self._context.encode(scaled)

    def flush(self) -> list[av.Packet]:
        return self._context.encode(None)


def _configure_x264(
    stream, rendition, time_base, frame_rate, segment_seconds, preset, b_frames
) -> None:
    stream.width = rendition.width
    stream.height = rendition.height
    stream.pix_fmt = "yuv420p"
    stream.time_base = time_base
    context = stream.codec_context
    context.time_base = time_base
    context.framerate = frame_rate
    # A regular GOP of one segment; the forced keyframes at the cuts coincide with it
    # when the source is regular, and win when it is not.
    context.gop_size = max(1, round(frame_rate * Fraction(segment_seconds)))
    context.thread_count = AUTOMATIC_THREADS
    # PyAV defaults to slice threads; libx264 then switches to sliced threading
    # (b_sliced_threads), which compresses worse than the frame threads the ffmpeg
    # CLI uses. "AUTO" (frame|slice) gives frame threads.
    context.thread_type = "AUTO"
    context.options = {
        "preset": preset,
        "crf": str(CONSTANT_RATE_FACTOR),
        # Capped CRF: quality-driven, but never above the rate the master playlist
        # promises in BANDWIDTH.
        "maxrate": str(rendition.video_bitrate),
        "bufsize": str(2 * rendition.video_bitrate),
        # A forced I frame becomes an IDR, so each segment decodes on its own.
        "forced-idr": "1",
    }
    if not b_frames:
        context.options = {**context.options, "bframes": "0"}
