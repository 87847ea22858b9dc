"""HLS playlist text (RFC 8216): the one module that knows the m3u8 format.

It renders media playlists (the live window and the VOD recording) and the master
playlist, and parses the media playlists it wrote, so that a transcoder started after
a reconnect can continue them. It holds no state and touches no files.

Written by hand because what we need is small and exact: the ffmpeg HLS muxer owns its
playlists (we cut segments ourselves, see ``segment_writer``), and the ``m3u8`` package
on PyPI would be a dependency for some sixty lines of rendering whose output we must
control tag by tag anyway (discontinuity sequence, target duration rules).
"""

import math
from dataclasses import dataclass

# EXTINF with decimals needs version 3; nothing newer is used.
PLAYLIST_VERSION = 3


@dataclass(frozen=True)
class MediaSegment:
    sequence: int
    uri: str
    duration: float
    # True when an EXT-X-DISCONTINUITY tag precedes this segment: a new transcoder
    # (after a reconnect) started here and timestamps restart.
    discontinuity: bool = False


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: int
    media_sequence: int
    segments: tuple[MediaSegment, ...]
    # Discontinuity tags that slid out of the window before the first segment.
    discontinuity_sequence: int = 0
    playlist_type: str | None = None  # "VOD" for recordings; live playlists have none
    ended: bool = False


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int
    average_bandwidth: int
    width: int
    height: int
    codecs: tuple[str, ...]
    frame_rate: float


def rounded_duration(duration: float) -> int:
    """EXTINF rounded to the nearest integer, as RFC 8216 4.3.3.1 compares it."""
    return math.floor(duration + 0.5)


def render_media_playlist(playlist: MediaPlaylist) -> str:
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{PLAYLIST_VERSION}",
        f"#EXT-X-TARGETDURATION:{playlist.target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{playlist.media_sequence}",
    ]
    if playlist.discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{playlist.discontinuity_sequence}")
    if playlist.playlist_type:
        lines.append(f"#EXT-X-PLAYLIST-TYPE:{playlist.playlist_type}")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    for segment in playlist.segments:
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXTINF:{segment.duration:.3f},")
        lines.append(segment.uri)
    if playlist.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def parse_media_playlist(text: str) -> MediaPlaylist:
    """Read back a media playlist written by ``render_media_playlist``."""
    target_duration = 0
    media_sequence = 0
    discontinuity_sequence = 0
    playlist_type = None
    ended = False
    segments: list[MediaSegment] = []
    duration = None
    discontinuity = False
    for line in (raw.strip() for raw in text.splitlines()):
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-TARGETDURATION":
            target_duration = int(value)
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            media_sequence = int(value)
        elif tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
            discontinuity_sequence = int(value)
        elif tag == "#EXT-X-PLAYLIST-TYPE":
            playlist_type = value
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif tag == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif tag == "#EXTINF":
            duration = float(value.split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            sequence = media_sequence + len(segments)
            segments.append(MediaSegment(sequence, line, duration, discontinuity))
            duration = None
            discontinuity = False
    return MediaPlaylist(
        target_duration=target_duration,
        media_sequence=media_sequence,
        segments=tuple(segments),
        discontinuity_sequence=discontinuity_sequence,
        playlist_type=playlist_type,
        ended=ended,
    )


def render_master_playlist(variants: list[Variant]) -> str:
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{PLAYLIST_VERSION}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for variant in variants:
        attributes = [
            f"BANDWIDTH={variant.bandwidth}",
            f"AVERAGE-BANDWIDTH={variant.average_bandwidth}",
            f"RESOLUTION={variant.width}x{variant.height}",
            f'CODECS="{",".join(variant.codecs)}"',
            f"FRAME-RATE={variant.frame_rate:.3f}",
        ]
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(variant.uri)
    return "\n".join(lines) + "\n"


def parse_master_playlist(text: str) -> list[tuple[dict[str, str], str]]:
    """(attributes, uri) for every variant; for tests and for the supervisor."""
    variants = []
    attributes: dict[str, str] | None = None
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = _parse_attribute_list(line.partition(":")[2])
        elif line and not line.startswith("#") and attributes is not None:
            variants.append((attributes, line))
            attributes = None
    return variants


def _parse_attribute_list(text: str) -> dict[str, str]:
    attributes = {}
    name, value, quoted = "", "", False
    reading_value = False
    for character in text + ",":
        if character == '"':
            quoted = not quoted
        elif character == "," and not quoted:
            attributes[name] = value
            name, value, reading_value = "", "", False
        elif character == "=" and not reading_value:
            reading_value = True
        elif reading_value:
            value += character
        else:
            name += character
    return attributes
