"""The chat app's settings, read in one place.

`livesite/settings.py` reads each `CHAT_*` setting from the environment and holds
its default (README, settings table); the rest of the app reads them through these
functions, not at import time, so tests can override them.
"""

from django.conf import settings


def message_max_chars() -> int:
    """The longest chat message, in characters."""
    return settings.CHAT_MESSAGE_MAX_CHARS


def rate_per_second() -> float:
    """Messages a user may send a second across all web processes (token bucket refill)."""
    return settings.CHAT_RATE_PER_MINUTE / 60


def rate_burst() -> int:
    """Messages a user may send at once before the rate applies."""
    return settings.CHAT_RATE_BURST


def history_on_join() -> int:
    """Messages a joining viewer gets, and the recent ones a room's hub keeps for them."""
    return settings.CHAT_HISTORY_ON_JOIN


def resume_limit() -> int:
    """The most messages one `resume` returns."""
    return settings.CHAT_RESUME_LIMIT


def resumes_per_minute() -> int:
    """`resume` frames one socket may send a minute (after a small burst)."""
    return settings.CHAT_RESUMES_PER_MINUTE


def frames_per_second() -> int:
    """Frames of any type a socket may send a second before it is closed as abusive (4429)."""
    return settings.CHAT_FRAMES_PER_SECOND


def likes_per_frame() -> int:
    """The most hearts one `like` frame may carry."""
    return settings.CHAT_LIKES_PER_FRAME


def join_notices_up_to() -> int:
    """Rooms with more viewers than this get no join/leave notices, only counts."""
    return settings.CHAT_JOIN_NOTICES_UP_TO
