"""The clips app's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its
default (README, settings table); the rest of the app reads them through these
functions, not at import time, so tests can override them.
"""

from pathlib import Path

from django.conf import settings


def min_seconds() -> int:
    """The shortest clip a viewer may make."""
    return settings.CLIPS_MIN_SECONDS


def max_seconds() -> int:
    """The longest clip a viewer may make (how far back a clip reaches)."""
    return settings.CLIPS_MAX_SECONDS


def per_user_limit() -> int:
    """Clips one user may make per per_user_window() seconds."""
    return settings.CLIPS_PER_USER_LIMIT


def per_user_window() -> int:
    return settings.CLIPS_PER_USER_WINDOW


def hls_root() -> Path:
    """Where the live streams' HLS segments are written; a clip is cut from them."""
    return Path(settings.HLS_ROOT)


def latest_cache_seconds() -> int:
    """How long the directory's newest clips may be served stale (as long as its rooms,
    ROOM_CACHE_SECONDS)."""
    return settings.ROOM_CACHE_SECONDS
