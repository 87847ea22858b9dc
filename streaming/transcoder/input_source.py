"""The broadcaster's stream on stdin: open it, describe it, read it without dying.

The input is a live byte stream, FLV from our RTMP server or Matroska from a WHIP
publisher (streaming/webrtc/matroska.py), possibly damaged, and it ends by
EOF or by a failed read (PyAV reports a closed RTMP connection as ``OSError(EIO)``).
Either end is normal and must let the transcoder flush and publish the last segment,
so ``PacketReader`` turns every way the input can end into an ``end_reason`` instead
of an exception, and skips what the demuxer rejects.
"""

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av
import av.error

# libavformat keeps probing a headerless format such as FLV (AVFMTCTX_NOHEADER) for
# streams that might still appear until analyzeduration (default 5 s) has passed; with
# a live, video-only publisher that is 5 s of startup delay. Our RTMP server sends the
# sequence headers first, so one second is plenty. Too short a value loses a stream
# whose first packet comes later (audio after a long video-only start, say).
ANALYZE_DURATION_MICROSECONDS = 1_000_000
# After this many demuxer errors in a row with no good packet between them the input
# is garbage rather than damaged, and we stop.
MAX_DEMUX_ERRORS_IN_A_ROW = 50
# Pixel formats every browser's H.264 decoder plays; anything else (10-bit, 4:2:2,
# 4:4:4) is re-encoded even when the codec is H.264.
BROWSER_PIXEL_FORMATS = ("yuv420p", "yuvj420p")
DEFAULT_FRAME_RATE = Fraction(30)


@dataclass(frozen=True)
class SourceInfo:
    video: av.video.stream.VideoStream
    audio: av.audio.stream.AudioStream | None
    width: int
    height: int
    frame_rate: Fraction
    video_codec: str
    audio_codec: str | None
    copy_video: bool
    copy_audio: bool


class UnusableInput(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def live_stdin() -> BinaryIO:
    """Standard input for PyAV, answering each read with whatever the pipe holds.

    PyAV fills its 32 KB I/O buffer with one ``read(32768)`` on the file it is given,
    and a buffered ``sys.stdin.buffer`` answers that only once 32 KB have arrived. At
    2.5 Mbit/s (OBS over RTMP) that is 0.1 s; a WHIP publisher showing a still picture
    or a slide sends a few kilobytes a second, and its HLS fell 15 s behind. The raw
    file does one read(2): it returns as soon as any bytes are there, and libavformat
    asks again for the rest of an element it needs.
    """
    return sys.stdin.buffer.raw


def open_live_input(file: BinaryIO, input_format: str = "flv") -> av.container.InputContainer:
    try:
        return av.open(
            file,
            format=input_format,
            options={"analyzeduration": str(ANALYZE_DURATION_MICROSECONDS)},
        )
    except (av.error.FFmpegError, OSError) as error:
        detail = f"cannot open the {input_format} input: {error}"
        raise UnusableInput("input_error", detail) from error


def describe_source(container: av.container.InputContainer) -> SourceInfo:
    if not container.streams.video:
        raise UnusableInput("no_video", "the input has no video stream")
    video = next(
        (s for s in container.streams.video if s.codec_context and s.codec_context.width), None
    )
    if video is None:
        raise UnusableInput("unsupported_input", "no decoder for the input's video")
    audio = next(
        (s for s in container.streams.audio if s.codec_context and s.codec_context.sample_rate),
        None,
    )
    context = video.codec_context
    return SourceInfo(
        video=video,
        audio=audio,
        width=context.width,
        height=context.height,
        frame_rate=Fraction(video.average_rate or video.guessed_rate or DEFAULT_FRAME_RATE),
        video_codec=context.name,
        audio_codec=audio.codec_context.name if audio else None,
        copy_video=context.name == "h264" and context.format.name in BROWSER_PIXEL_FORMATS,
        copy_audio=audio is not None and audio.codec_context.name == "aac",
    )


class PacketReader:
    """Packets of the chosen streams until the input ends; never raises for bad input."""

    def __init__(self, container: av.container.InputContainer, streams, health) -> None:
        self._container = container
        self._streams = streams
        self._health = health
        self.end_reason: str | None = None
        self.end_detail: str | None = None

    def packets(self) -> Iterator[av.Packet]:
        errors_in_a_row = 0
        while self.end_reason is None:
            try:
                for packet in self._container.demux(self._streams):
                    errors_in_a_row = 0
                    # demux() ends with one empty packet per stream, meant for flushing
                    # decoders; we flush explicitly at the end instead.
                    if not packet.size or packet.dts is None:
                        continue
                    if packet.is_corrupt:
                        self._health.record_corrupt_packet()
                        continue
                    yield packet
                self.end_reason = "eof"
            except av.error.EOFError:
                self.end_reason = "eof"
            except OSError as error:
                self._end("input_error", error)
            except av.error.FFmpegError as error:
                # Damaged data (InvalidDataError and friends): skip it and read on.
                self._health.record_corrupt_packet()
                errors_in_a_row += 1
                if errors_in_a_row >= MAX_DEMUX_ERRORS_IN_A_ROW:
                    self._end("corrupt_input", error)
            except IndexError as error:
                # PyAV's demux() sizes its stream table once; when damaged data makes
                # the FLV demuxer create a new stream, its end-of-input flush indexes
                # past the table (a bug in PyAV, not in the input). It only happens
                # after EOF, so this is the end of the input.
                self._end("eof", error)

    def _end(self, reason: str, error: Exception) -> None:
        self.end_reason = reason
        self.end_detail = f"{type(error).__name__}: {error}"
