"""The discovery app's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its
default (README, settings table); the rest of the app reads them through these
functions, not at import time, so tests can override them.
"""

from django.conf import settings


def search_cache_seconds() -> int:
    """How long a query's matches are reused before the database is asked again."""
    return settings.SEARCH_CACHE_SECONDS
