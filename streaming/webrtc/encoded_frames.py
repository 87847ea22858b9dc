"""Encoded frames from aiortc's receivers, for tracks that ask for them.

aiortc reassembles each received frame (H.264 access units in Annex B, VP8 frames,
Opus packets) and then always decodes it in a thread per receiver. The ingest needs
the encoded frames: the transcoder copies a browser's H.264 into the source rendition
without re-encoding it, and decodes VP8 and Opus itself. aiortc has no public hook for
this, so we wrap its module-level `decoder_worker`: for a track marked with
`want_encoded_frames(track)` the worker forwards `EncodedFrame`s (codec, data, RTP
timestamp from 0) instead of decoded ones; every other track is decoded as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiortc import rtcrtpreceiver

_MARK = "_livesite_encoded_frames"


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    codec: str  # "h264", "vp8" or "opus"
    data: bytes
    timestamp: int  # in the codec's RTP clock (90 kHz video, 48 kHz Opus), from 0
    clock_rate: int


def want_encoded_frames(track) -> None:
    """Ask for `EncodedFrame`s from this received track. Call it in the peer's
    "track" event: aiortc starts the receiver's worker only once ICE is connected."""
    setattr(track._queue, _MARK, True)


def _forward_encoded(loop, input_queue, output_queue, decode_error) -> None:
    while True:
        task = input_queue.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_queue.put(None), loop)
            return
        codec, jitter_frame = task
        frame = EncodedFrame(
            codec.name.lower(), jitter_frame.data, jitter_frame.timestamp, codec.clockRate
        )
        asyncio.run_coroutine_threadsafe(output_queue.put(frame), loop)


_decoding_worker = rtcrtpreceiver.decoder_worker


def _worker(loop, input_queue, output_queue, decode_error) -> None:
    if getattr(output_queue, _MARK, False):
        return _forward_encoded(loop, input_queue, output_queue, decode_error)
    return _decoding_worker(loop, input_queue, output_queue, decode_error)


if rtcrtpreceiver.decoder_worker is _decoding_worker:
    rtcrtpreceiver.decoder_worker = _worker
