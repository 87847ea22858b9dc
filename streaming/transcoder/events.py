"""What the transcoder tells its supervisor: one JSON object per line on stdout.

Every event has one builder here and one shape:

``{"event": "started", "pid", "output", "video_codec", "audio_codec", "width",
"height", "frame_rate", "renditions": [{"name", "width", "height", "copy"}],
"discontinuity"}``
    once the input's streams are known and the renditions are planned.
``{"event": "health", "input_bitrate", "fps", "width", "height", "video_codec",
"audio_codec", "keyframe_interval", "speed", "media_time", "corrupt_packets",
"corrupt_frames", "decode_errors", "dropped_packets"}``
    every ``--health-every`` wall seconds while packets arrive, and once more at the
    end. ``speed`` is media seconds processed per wall second since the previous health
    event; a live input holds it near 1.0, below that the transcoder falls behind.
    Bitrate (bit/s), fps and keyframe_interval (s) are measured on what arrives; the
    damage counters are explained in ``health.py``.
``{"event": "segment", "rendition", "sequence", "duration", "uri", "bytes",
"discontinuity"}``
    after a segment file and its playlist are published.
``{"event": "ended", "reason", "detail", "segments"}``
    last line. After a stream: ``eof`` (input closed), ``input_error`` (a read failed,
    e.g. EIO) or ``corrupt_input`` (the demuxer gave up), exit status 0; ``error`` (a
    bug), exit status 1. Without one: ``input_error`` (not FLV), ``no_video`` or
    ``unsupported_input`` (no decoder for the video), exit status 2.

stdout carries nothing else; diagnostics go to stderr.
"""

import json
import os
from typing import TextIO


class EventStream:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._open = True

    def emit(self, event: dict) -> None:
        if not self._open:
            return
        try:
            self._stream.write(json.dumps(event, separators=(",", ":")) + "\n")
            self._stream.flush()
        except BrokenPipeError:
            # The supervisor is gone. Keep transcoding: the stream may still be
            # watched, and the input's end will stop us soon enough.
            self._open = False


def started_event(*, output, source, renditions, discontinuity: bool) -> dict:
    return {
        "event": "started",
        "pid": os.getpid(),
        "output": str(output),
        "video_codec": source.video_codec,
        "audio_codec": source.audio_codec,
        "width": source.width,
        "height": source.height,
        "frame_rate": round(float(source.frame_rate), 3),
        "renditions": [
            {"name": r.name, "width": r.width, "height": r.height, "copy": r.copy_video}
            for r in renditions
        ],
        "discontinuity": discontinuity,
    }


def health_event(report: dict) -> dict:
    return {"event": "health", **report}


def segment_event(rendition: str, segment, byte_size: int) -> dict:
    return {
        "event": "segment",
        "rendition": rendition,
        "sequence": segment.sequence,
        "duration": round(segment.duration, 3),
        "uri": f"{rendition}/{segment.uri}",
        "bytes": byte_size,
        "discontinuity": segment.discontinuity,
    }


def ended_event(reason: str, *, detail: str | None = None, segments: int = 0) -> dict:
    return {"event": "ended", "reason": reason, "detail": detail, "segments": segments}
