"""The rooms app's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its
default (README, settings table); the rest of the app reads them through these
functions, not at import time, so tests can override them.
"""

from django.conf import settings


def ingest_public_url() -> str:
    """The RTMP address broadcasters type into OBS; empty means built from the page's host."""
    return settings.INGEST_PUBLIC_URL


def ingest_port() -> int:
    """The port the RTMP ingest listens on (shown in the OBS address)."""
    return settings.INGEST_PORT


def ingest_app() -> str:
    """The RTMP application name in the OBS address (`rtmp://host:port/<app>`)."""
    return settings.INGEST_APP


def ingest_lock_ttl() -> float:
    """Seconds a live lock lives unless its ingest renews it (streaming/ingest renews it)."""
    return settings.INGEST_LOCK_TTL


def replay_retention_hours() -> int:
    """How long a stream's replay is offered after it ends."""
    return settings.REPLAY_RETENTION_HOURS


def room_cache_seconds() -> int:
    """How long a cached room, the directory and the live list may be served stale."""
    return settings.ROOM_CACHE_SECONDS
