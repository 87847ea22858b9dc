"""The moderation app's settings, read in one place.

`livesite/settings.py` reads each `MODERATION_*` setting from the environment and
holds its default (README, settings table); the rest of the app reads them through
these functions, not at import time, so tests can override them.
"""

from pathlib import Path

from django.conf import settings


def _get(name: str):
    return getattr(settings, f"MODERATION_{name}")


def state_ttl_seconds() -> int:
    """How long the shared cache vouches for a room's restriction list before reloading it.

    The database is the truth; the cache (Redis) holds active bans and timeouts
    for the per-message check. If Redis loses keys, a room heals within this time.
    """
    return int(_get("STATE_TTL_SECONDS"))


def held_review_seconds() -> int:
    """How long a held message waits for a moderator before it is dropped (0: forever)."""
    return int(_get("HELD_REVIEW_SECONDS"))


def rules_cache_size() -> int:
    """Compiled room filters a process keeps (least recently used ones are dropped)."""
    return int(_get("RULES_CACHE_SIZE"))


def moderators_bypass_filter() -> bool:
    """Whether owners, room moderators and staff skip the real-time filter (as with slow mode)."""
    return bool(_get("MODERATORS_BYPASS_FILTER"))


def default_link_mode() -> str:
    """Link policy of a room with no rules of its own: allow_all, block_all or allow_list."""
    return _get("DEFAULT_LINK_MODE")


def default_allowed_domains() -> tuple[str, ...]:
    return tuple(_get("DEFAULT_ALLOWED_DOMAINS"))


def default_flood_limits() -> dict | None:
    """FloodLimits arguments for a room with no rules of its own; None (the default) leaves
    flooding alone until a room's moderators set limits, e.g.
    {"max_caps_ratio": 0.7, "min_letters_for_caps": 12, "max_emoji": 10,
     "max_repeated_chars": 12, "action": "block"}."""
    return _get("DEFAULT_FLOOD_LIMITS")


def scoring_enabled() -> bool:
    return bool(_get("SCORING_ENABLED"))


def scoring_delay_seconds() -> float:
    """How long after a message the worker scores it: copies sent in a raid arrive meanwhile."""
    return float(_get("SCORING_DELAY_SECONDS"))


def scoring_batch_seconds() -> float:
    """A web process gathers message ids this long and queues one scoring task for them."""
    return float(_get("SCORING_BATCH_SECONDS"))


def scoring_batch_size() -> int:
    return int(_get("SCORING_BATCH_SIZE"))


def scoring_expires_seconds() -> float:
    """A scoring task still queued this long after it was due is dropped (a backlog after an
    outage scores what is still on screen, not hours of old chat)."""
    return float(_get("SCORING_EXPIRES_SECONDS"))


def scoring_queue() -> str | None:
    """Celery queue of the scoring task; None is the default queue."""
    return _get("SCORING_QUEUE")


def classifiers() -> tuple[str, ...]:
    """Dotted paths of the classifiers that score messages (see moderation.scoring)."""
    return tuple(_get("CLASSIFIERS"))


def retract_score() -> float:
    """A message scoring at least this is retracted from every screen and queued for review."""
    return float(_get("RETRACT_SCORE"))


def review_score() -> float:
    """A message scoring at least this (but under the retract score) is queued for review."""
    return float(_get("REVIEW_SCORE"))


def copypasta_users() -> int:
    """The same text from this many different users within the window is a raid."""
    return int(_get("COPYPASTA_USERS"))


def copypasta_window_seconds() -> int:
    return int(_get("COPYPASTA_WINDOW_SECONDS"))


def report_limit() -> int:
    """Reports one user may file per window."""
    return int(_get("REPORT_LIMIT"))


def report_window_seconds() -> int:
    return int(_get("REPORT_WINDOW_SECONDS"))


def max_timeout_minutes() -> int:
    return int(_get("MAX_TIMEOUT_MINUTES"))


def clear_events_max() -> int:
    """Clearing chat sends a chat.delete for at most this many of the newest messages."""
    return int(_get("CLEAR_EVENTS_MAX"))


def context_messages() -> int:
    """Messages shown before and after a reviewed message in the admin review page."""
    return int(_get("CONTEXT_MESSAGES"))


def hls_root() -> Path:
    """Where the transcoder writes each room's HLS output (and its thumbnail.jpg)."""
    return Path(settings.HLS_ROOT)
