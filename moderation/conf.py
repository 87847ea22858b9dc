"""The moderation app's settings, each with its default, read in one place.

`livesite/settings.py` may set any of these (parsed from the environment); a
missing one falls back to the default here, so a laptop install needs none.
Read them through these functions, not at import time, so tests can override.
"""

from pathlib import Path

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, f"MODERATION_{name}", default)


def state_ttl_seconds() -> int:
    """How long the shared cache vouches for a room's restriction list before reloading it.

    The database is the truth; the cache (Redis) holds active bans and timeouts
    for the per-message check. If Redis loses keys, a room heals within this time.
    """
    return int(_get("STATE_TTL_SECONDS", 3600))


def held_review_seconds() -> int:
    """How long a held message waits for a moderator before it is dropped (0: forever)."""
    return int(_get("HELD_REVIEW_SECONDS", 300))


def rules_cache_size() -> int:
    """Compiled room filters a process keeps (least recently used ones are dropped)."""
    return int(_get("RULES_CACHE_SIZE", 1000))


def moderators_bypass_filter() -> bool:
    """Whether owners, room moderators and staff skip the real-time filter (as with slow mode)."""
    return bool(_get("MODERATORS_BYPASS_FILTER", True))


def default_link_mode() -> str:
    """Link policy of a room with no rules of its own: allow_all, block_all or allow_list."""
    return _get("DEFAULT_LINK_MODE", "allow_all")


def default_allowed_domains() -> tuple[str, ...]:
    return tuple(_get("DEFAULT_ALLOWED_DOMAINS", ()))


def default_flood_limits() -> dict | None:
    """FloodLimits arguments for a room with no rules of its own; None (the default) leaves
    flooding alone until a room's moderators set limits, e.g.
    {"max_caps_ratio": 0.7, "min_letters_for_caps": 12, "max_emoji": 10,
     "max_repeated_chars": 12, "action": "block"}."""
    return _get("DEFAULT_FLOOD_LIMITS", None)


def scoring_enabled() -> bool:
    return bool(_get("SCORING_ENABLED", True))


def scoring_delay_seconds() -> float:
    """How long after a message the worker scores it: copies sent in a raid arrive meanwhile."""
    return float(_get("SCORING_DELAY_SECONDS", 2))


def scoring_batch_seconds() -> float:
    """A web process gathers message ids this long and queues one scoring task for them."""
    return float(_get("SCORING_BATCH_SECONDS", 0.5))


def scoring_batch_size() -> int:
    return int(_get("SCORING_BATCH_SIZE", 200))


def scoring_expires_seconds() -> float:
    """A scoring task still queued this long after it was due is dropped (a backlog after an
    outage scores what is still on screen, not hours of old chat)."""
    return float(_get("SCORING_EXPIRES_SECONDS", 600))


def scoring_queue() -> str | None:
    """Celery queue of the scoring task; None is the default queue."""
    return _get("SCORING_QUEUE", None)


def classifiers() -> tuple[str, ...]:
    """Dotted paths of the classifiers that score messages (see moderation.scoring)."""
    return tuple(_get("CLASSIFIERS", ("moderation.scoring.RuleClassifier",)))


def retract_score() -> float:
    """A message scoring at least this is retracted from every screen and queued for review."""
    return float(_get("RETRACT_SCORE", 0.8))


def review_score() -> float:
    """A message scoring at least this (but under the retract score) is queued for review."""
    return float(_get("REVIEW_SCORE", 0.5))


def copypasta_users() -> int:
    """The same text from this many different users within the window is a raid."""
    return int(_get("COPYPASTA_USERS", 3))


def copypasta_window_seconds() -> int:
    return int(_get("COPYPASTA_WINDOW_SECONDS", 60))


def report_limit() -> int:
    """Reports one user may file per window."""
    return int(_get("REPORT_LIMIT", 10))


def report_window_seconds() -> int:
    return int(_get("REPORT_WINDOW_SECONDS", 600))


def max_timeout_minutes() -> int:
    return int(_get("MAX_TIMEOUT_MINUTES", 60 * 24 * 14))


def clear_events_max() -> int:
    """Clearing chat sends a chat.delete for at most this many of the newest messages."""
    return int(_get("CLEAR_EVENTS_MAX", 200))


def context_messages() -> int:
    """Messages shown before and after a reviewed message in the admin review page."""
    return int(_get("CONTEXT_MESSAGES", 10))


def hls_root() -> Path:
    """Where the transcoder writes each room's HLS output (and its thumbnail.jpg)."""
    return Path(getattr(settings, "HLS_ROOT", settings.VAR_DIR / "hls"))
