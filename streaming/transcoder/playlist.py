"""HLS playlist text (RFC 8216bis): the one module that knows the m3u8 format.

It renders media playlists (the live window with its Low-Latency HLS parts, and the
VOD recording) and the master playlist, and parses the media playlists it wrote, so
that a transcoder started after a reconnect can continue them and the origin can tell
which part a playlist ends with (blocking reloads) and cut its delta form. It holds no
state and touches no files.

Low-Latency HLS (version 9): every segment is CMAF with an ``EXT-X-MAP`` init segment;
the last few segments and the one being written are also listed as ``EXT-X-PART``s of
about a third of a second, followed by an ``EXT-X-PRELOAD-HINT`` for the next part and
``EXT-X-RENDITION-REPORT``s for the other renditions. ``EXT-X-SERVER-CONTROL`` says the
origin answers blocking reloads (``_HLS_msn``/``_HLS_part``) and delta updates
(``_HLS_skip``). Players that know nothing of parts ignore those tags and play the
segments as ordinary HLS.

Written by hand because what we need is small and exact: the ffmpeg HLS muxer owns its
playlists (we cut segments ourselves, see ``segment_writer``), and the ``m3u8`` package
on PyPI would be a dependency for some sixty lines of rendering whose output we must
control tag by tag anyway (discontinuity sequence, target duration rules).
"""

import math
from dataclasses import dataclass, replace

# EXT-X-SKIP and EXT-X-PART need version 9 (RFC 8216bis 8.1 and 4.4.4.9).
PLAYLIST_VERSION = 9
# Players hold back at least this many part targets from the live edge (the spec's
# minimum for PART-HOLD-BACK).
PART_HOLD_BACK_PARTS = 3
# Delta updates may skip segments older than this many target durations (the minimum
# RFC 8216bis 4.4.3.8 allows).
SKIP_TARGET_DURATIONS = 6


@dataclass(frozen=True)
class Part:
    uri: str
    duration: float
    independent: bool = False


@dataclass(frozen=True)
class MediaSegment:
    sequence: int
    uri: str
    duration: float
    # True when an EXT-X-DISCONTINUITY tag precedes this segment: a new transcoder
    # (after a reconnect) started here and timestamps restart.
    discontinuity: bool = False
    init: str | None = None  # the EXT-X-MAP init segment this segment needs
    parts: tuple[Part, ...] = ()  # listed only near the live edge
    program_date_time: str | None = None  # ISO 8601 wall clock of the first frame


@dataclass(frozen=True)
class RenditionReport:
    uri: str
    last_sequence: int
    last_part: int | None


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: int
    media_sequence: int
    segments: tuple[MediaSegment, ...]
    # Discontinuity tags that slid out of the window before the first segment.
    discontinuity_sequence: int = 0
    playlist_type: str | None = None  # "VOD" for recordings; live playlists have none
    ended: bool = False
    part_target: float | None = None  # set on live playlists with parts
    pending_parts: tuple[Part, ...] = ()  # the parts of the segment being written
    pending_init: str | None = None  # its init segment, if it starts a new one
    preload_hint: str | None = None
    rendition_reports: tuple[RenditionReport, ...] = ()
    skipped_segments: int = 0  # delta form: segments replaced by EXT-X-SKIP

    @property
    def last_sequence(self) -> int:
        """The media sequence number the playlist's last (possibly partial) segment has."""
        return (
            self.media_sequence
            + len(self.segments)
            + self.skipped_segments
            + (0 if self.pending_parts else -1)
        )

    @property
    def last_part(self) -> int | None:
        """Index of the last part of that segment, None without parts."""
        if self.pending_parts:
            return len(self.pending_parts) - 1
        if self.segments and self.segments[-1].parts:
            return len(self.segments[-1].parts) - 1
        return None


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


def part_hold_back(part_target: float) -> float:
    return PART_HOLD_BACK_PARTS * part_target


def render_media_playlist(playlist: MediaPlaylist) -> str:
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{PLAYLIST_VERSION}",
        f"#EXT-X-TARGETDURATION:{playlist.target_duration}",
    ]
    if playlist.part_target and not playlist.ended:
        skip_until = SKIP_TARGET_DURATIONS * playlist.target_duration
        lines += [
            f"#EXT-X-PART-INF:PART-TARGET={playlist.part_target:.3f}",
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
            f"PART-HOLD-BACK={part_hold_back(playlist.part_target) + 0.0005:.3f},"
            f"CAN-SKIP-UNTIL={skip_until:.1f}",
        ]
    lines.append(f"#EXT-X-MEDIA-SEQUENCE:{playlist.media_sequence}")
    if playlist.discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{playlist.discontinuity_sequence}")
    if playlist.playlist_type:
        lines.append(f"#EXT-X-PLAYLIST-TYPE:{playlist.playlist_type}")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    if playlist.skipped_segments:
        lines.append(f"#EXT-X-SKIP:SKIPPED-SEGMENTS={playlist.skipped_segments}")
    init = None
    for index, segment in enumerate(playlist.segments):
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        if segment.init and (segment.init != init or segment.discontinuity):
            lines.append(f'#EXT-X-MAP:URI="{segment.init}"')
        init = segment.init or init
        # One date per run of the timeline (and on the first segment) is what players
        # need to map it to wall-clock time.
        if segment.program_date_time and (index == 0 or segment.discontinuity):
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{segment.program_date_time}")
        lines += [_part_line(part) for part in segment.parts]
        lines.append(f"#EXTINF:{segment.duration:.3f},")
        lines.append(segment.uri)
    if playlist.pending_init and playlist.pending_init != init:
        lines.append(f'#EXT-X-MAP:URI="{playlist.pending_init}"')
    lines += [_part_line(part) for part in playlist.pending_parts]
    if playlist.preload_hint and not playlist.ended:
        lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{playlist.preload_hint}"')
    for report in playlist.rendition_reports:
        attributes = f'URI="{report.uri}",LAST-MSN={report.last_sequence}'
        if report.last_part is not None:
            attributes += f",LAST-PART={report.last_part}"
        lines.append(f"#EXT-X-RENDITION-REPORT:{attributes}")
    if playlist.ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _part_line(part: Part) -> str:
    line = f'#EXT-X-PART:DURATION={part.duration:.3f},URI="{part.uri}"'
    return line + (",INDEPENDENT=YES" if part.independent else "")


def delta_playlist(playlist: MediaPlaylist) -> MediaPlaylist:
    """The delta form (``_HLS_skip=YES``): segments older than CAN-SKIP-UNTIL from the
    end replaced by one EXT-X-SKIP (RFC 8216bis 6.2.5.1)."""
    skip_until = SKIP_TARGET_DURATIONS * playlist.target_duration
    remaining, skipped = 0.0, 0
    for index in range(len(playlist.segments) - 1, -1, -1):
        remaining += playlist.segments[index].duration
        if remaining > skip_until:
            skipped = index + 1
            break
    # A skipped discontinuity would change how the player counts them: keep those.
    while skipped and any(s.discontinuity for s in playlist.segments[:skipped]):
        skipped -= 1
    if skipped == 0:
        return playlist
    kept = playlist.segments[skipped:]
    init = next((s.init for s in reversed(playlist.segments[:skipped]) if s.init), None)
    if kept and init and not kept[0].init:
        kept = (replace(kept[0], init=init), *kept[1:])
    return replace(playlist, segments=kept, skipped_segments=skipped)


def parse_media_playlist(text: str) -> MediaPlaylist:
    """Read back a media playlist written by ``render_media_playlist``."""
    fields = {"target_duration": 0, "media_sequence": 0, "discontinuity_sequence": 0}
    segments: list[MediaSegment] = []
    parts: list[Part] = []
    reports: list[RenditionReport] = []
    pending: dict = {"discontinuity": False, "program_date_time": None}
    duration = init = None
    for line in (raw.strip() for raw in text.splitlines()):
        tag, _, value = line.partition(":")
        if tag in _INTEGER_FIELDS:
            fields[_INTEGER_FIELDS[tag]] = int(value)
        elif tag == "#EXT-X-PLAYLIST-TYPE":
            fields["playlist_type"] = value
        elif tag == "#EXT-X-ENDLIST":
            fields["ended"] = True
        elif tag == "#EXT-X-PART-INF":
            fields["part_target"] = float(_parse_attribute_list(value)["PART-TARGET"])
        elif tag == "#EXT-X-SKIP":
            fields["skipped_segments"] = int(_parse_attribute_list(value)["SKIPPED-SEGMENTS"])
        elif tag == "#EXT-X-DISCONTINUITY":
            pending["discontinuity"] = True
        elif tag == "#EXT-X-PROGRAM-DATE-TIME":
            pending["program_date_time"] = value
        elif tag == "#EXT-X-MAP":
            init = _parse_attribute_list(value)["URI"]
        elif tag == "#EXT-X-PART":
            attributes = _parse_attribute_list(value)
            parts.append(
                Part(
                    attributes["URI"],
                    float(attributes["DURATION"]),
                    attributes.get("INDEPENDENT") == "YES",
                )
            )
        elif tag == "#EXT-X-PRELOAD-HINT":
            fields["preload_hint"] = _parse_attribute_list(value)["URI"]
        elif tag == "#EXT-X-RENDITION-REPORT":
            attributes = _parse_attribute_list(value)
            last_part = attributes.get("LAST-PART")
            reports.append(
                RenditionReport(
                    attributes["URI"],
                    int(attributes["LAST-MSN"]),
                    int(last_part) if last_part is not None else None,
                )
            )
        elif tag == "#EXTINF":
            duration = float(value.split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            sequence = fields["media_sequence"] + fields.get("skipped_segments", 0) + len(segments)
            segments.append(
                MediaSegment(sequence, line, duration, init=init, parts=tuple(parts), **pending)
            )
            duration = None
            parts = []
            pending = {"discontinuity": False, "program_date_time": None}
    last_init = segments[-1].init if segments else None
    return MediaPlaylist(
        segments=tuple(segments),
        pending_parts=tuple(parts),
        pending_init=init if parts and init != last_init else None,
        rendition_reports=tuple(reports),
        **fields,
    )


_INTEGER_FIELDS = {
    "#EXT-X-TARGETDURATION": "target_duration",
    "#EXT-X-MEDIA-SEQUENCE": "media_sequence",
    "#EXT-X-DISCONTINUITY-SEQUENCE": "discontinuity_sequence",
}


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
