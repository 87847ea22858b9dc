"""The transcoder's command line, parsed and checked once.

The supervisor passes everything on the command line (this process reads no
environment and no Django settings), so a bad value fails here with the option's name.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

from streaming.transcoder.ladder import DEFAULT_LADDER_HEIGHTS

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


INPUT_FORMATS = ("flv", "matroska")


@dataclass(frozen=True)
class TranscodeOptions:
    output: Path
    segment_seconds: float = 2.0
    part_seconds: float = 0.333
    ladder_heights: tuple[int, ...] = DEFAULT_LADDER_HEIGHTS
    preset: str = "veryfast"
    window: int = 6
    thumbnail_every: float = 5.0
    keep_recording: bool = False
    max_recording_seconds: float = 0.0  # 0: the whole stream
    discontinuity: bool = False
    # (last segment, discontinuities) of a run on another machine to number after.
    continue_after: tuple[int, int] | None = None
    health_every: float = 2.0
    input_format: str = "flv"  # "matroska" from a WHIP publisher (streaming/webrtc/)
    # A pipe for the real-time (WHEP) rendition: the top rung, without B-frames.
    realtime_fd: int | None = None


def parse_options(argv: list[str] | None = None) -> TranscodeOptions:
    parser = _build_parser()
    args = parser.parse_args(argv)
    return TranscodeOptions(
        output=Path(args.output),
        segment_seconds=args.segment_seconds,
        part_seconds=min(args.part_seconds, args.segment_seconds),
        ladder_heights=args.ladder,
        preset=args.preset,
        window=args.window,
        thumbnail_every=args.thumbnail_every,
        keep_recording=args.keep_recording,
        max_recording_seconds=args.max_recording_seconds,
        discontinuity=args.discontinuity,
        continue_after=args.continue_after,
        health_every=args.health_every,
        input_format=args.input_format,
        realtime_fd=args.realtime_fd,
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.transcoder",
        description="Read one live stream (FLV or Matroska) on stdin and publish it as HLS "
        "in --output.",
    )
    parser.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        default="flv",
        help="flv from the RTMP ingest, matroska from a WHIP (WebRTC) publisher",
    )
    parser.add_argument("--output", required=True, help="directory for playlists and segments")
    parser.add_argument(
        "--segment-seconds",
        type=_number_at_least(0.5),
        default=2.0,
        help="target segment length; a copied source cuts at its next keyframe after it",
    )
    parser.add_argument(
        "--part-seconds",
        type=_number_at_least(0.1),
        default=0.333,
        help="target length of Low-Latency HLS parts (no keyframe needed)",
    )
    parser.add_argument(
        "--ladder",
        type=_ladder_heights,
        default=DEFAULT_LADDER_HEIGHTS,
        help="comma-separated heights to encode below the source, e.g. 720,480,360; "
        "'none' for the source only",
    )
    parser.add_argument("--preset", choices=X264_PRESETS, default="veryfast")
    parser.add_argument(
        "--window", type=_whole_number_at_least(2), default=6, help="segments in index.m3u8"
    )
    parser.add_argument(
        "--thumbnail-every", type=_number_at_least(0.5), default=5.0, metavar="SECONDS"
    )
    parser.add_argument(
        "--keep-recording",
        action="store_true",
        help="keep every segment and write <rendition>/vod.m3u8 when the input ends",
    )
    parser.add_argument(
        "--max-recording-seconds",
        type=_number_at_least(0),
        default=0.0,
        metavar="SECONDS",
        help="keep only about the last SECONDS of the recording (0: all of it)",
    )
    parser.add_argument(
        "--discontinuity",
        action="store_true",
        help="continue the playlists already in --output after a reconnect",
    )
    parser.add_argument(
        "--realtime-fd",
        type=_whole_number_at_least(3),
        default=None,
        metavar="FD",
        help="encode the top rung without B-frames and write its packets to FD",
    )
    parser.add_argument(
        "--continue-after",
        type=_continuation,
        default=None,
        metavar="SEQUENCE:DISCONTINUITIES",
        help="continue a stream whose earlier segments are elsewhere (another ingest): "
        "number segments after SEQUENCE, the first one a discontinuity",
    )
    parser.add_argument(
        "--health-every", type=_number_at_least(0.1), default=2.0, metavar="SECONDS"
    )
    return parser


def _ladder_heights(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        heights = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of heights: {text!r}") from None
    if any(height < 16 or height % 2 for height in heights):
        raise argparse.ArgumentTypeError(f"heights must be even and at least 16: {text!r}")
    return heights


def _continuation(text: str) -> tuple[int, int]:
    sequence, separator, discontinuities = text.partition(":")
    try:
        parsed = (int(sequence), int(discontinuities))
    except ValueError:
        parsed = None
    if not separator or parsed is None or min(parsed) < 0:
        raise argparse.ArgumentTypeError(f"not SEQUENCE:DISCONTINUITIES: {text!r}")
    return parsed


def _number_at_least(minimum: float):
    def parse(text: str) -> float:
        value = float(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def _whole_number_at_least(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse
