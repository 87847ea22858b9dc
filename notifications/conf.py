"""The notifications app's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its
default (README, settings table); the rest of the app reads them through these
functions, not at import time, so tests can override them.
"""

from django.conf import settings


def flap_minutes() -> int:
    """A room that went live less than this many minutes after its last stream ended
    notifies nobody (a broadcaster's reconnect is not news)."""
    return settings.NOTIFICATIONS_FLAP_MINUTES


def batch_size() -> int:
    """Followers notified by one delivery task (one multi-row insert)."""
    return settings.NOTIFICATIONS_BATCH_SIZE


def site_url() -> str:
    """Scheme and host that links in emails start with (no trailing slash)."""
    return settings.SITE_URL


def site_name() -> str:
    """The site's name as emails show it."""
    return settings.SITE_NAME
