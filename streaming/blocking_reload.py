"""LL-HLS playlist delivery directives: ``_HLS_msn``, ``_HLS_part``, ``_HLS_skip``.

RFC 8216bis 6.2.5: a player asks for a playlist that contains media sequence number
``_HLS_msn`` (and part ``_HLS_part`` of it); the origin holds the request until the
playlist does. ``_HLS_skip=YES`` (or ``v2``) asks for the delta form. This module only
reads the query and decides, for a given playlist, whether it answers the request, is
not there yet, or never will be (too far ahead); ``origin.py`` does the waiting.

Anything that is not exactly these directives, each once, with plain decimal numbers,
is refused with 400 rather than guessed at: a CDN keys its cache by the query, so
loose parsing would only let a client spray the cache with equivalent keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl

from streaming.transcoder.playlist import MediaPlaylist

DIRECTIVES = ("_HLS_msn", "_HLS_part", "_HLS_skip")
SKIP_VALUES = ("YES", "v2")
MAX_QUERY_LENGTH = 200
MAX_NUMBER_DIGITS = 18  # below 2**63, so no arithmetic on huge numbers
# RFC 8216bis 6.2.5.2: an _HLS_msn more than two segments past the last one is an error.
MSN_ADVANCE_LIMIT = 2
# A player may wait at most this many target durations (6.2.5.2 says three).
WAIT_TARGET_DURATIONS = 3


class BadDirective(ValueError):
    """A malformed or impossible request: the origin answers 400."""


@dataclass(frozen=True)
class Directives:
    msn: int | None = None
    part: int | None = None
    skip: bool = False

    @property
    def blocking(self) -> bool:
        return self.msn is not None


class Readiness(Enum):
    READY = "ready"
    WAIT = "wait"
    TOO_FAR = "too far"


def parse_directives(query: str) -> Directives:
    """The delivery directives in a playlist request's query string."""
    if not query:
        return Directives()
    if len(query) > MAX_QUERY_LENGTH:
        raise BadDirective("query too long")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, max_num_fields=5)
    except ValueError as error:
        raise BadDirective(str(error)) from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in DIRECTIVES:
            raise BadDirective(f"unknown parameter {name!r}")
        if name in values:
            raise BadDirective(f"{name} given twice")
        values[name] = value
    msn = _number(values, "_HLS_msn")
    part = _number(values, "_HLS_part")
    if part is not None and msn is None:
        raise BadDirective("_HLS_part without _HLS_msn")
    skip = values.get("_HLS_skip")
    if skip is not None and skip not in SKIP_VALUES:
        raise BadDirective("_HLS_skip must be YES or v2")
    return Directives(msn=msn, part=part, skip=skip is not None)


def _number(values: dict[str, str], name: str) -> int | None:
    text = values.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_NUMBER_DIGITS:
        raise BadDirective(f"{name} must be a non-negative decimal number")
    return int(text)


def readiness(playlist: MediaPlaylist, directives: Directives) -> Readiness:
    """Whether `playlist` answers a request carrying `directives`."""
    if playlist.ended or not directives.blocking:
        return Readiness.READY
    last, last_part = playlist.last_sequence, playlist.last_part
    msn, part = directives.msn, directives.part
    if msn > last + MSN_ADVANCE_LIMIT or (part is not None and part > _part_limit(playlist)):
        return Readiness.TOO_FAR
    if msn < last:
        return Readiness.READY
    if msn > last:
        return Readiness.WAIT
    segment_complete = not playlist.pending_parts
    if part is None:
        return Readiness.READY if segment_complete else Readiness.WAIT
    if segment_complete or (last_part is not None and part <= last_part):
        return Readiness.READY
    return Readiness.WAIT


def _part_limit(playlist: MediaPlaylist) -> int:
    """The highest part index a segment can have, with room for a long segment."""
    if not playlist.part_target:
        return 0
    return 2 * math.ceil(playlist.target_duration / playlist.part_target) + 1


def wait_limit(playlist: MediaPlaylist) -> float:
    return WAIT_TARGET_DURATIONS * max(playlist.target_duration, 1)
