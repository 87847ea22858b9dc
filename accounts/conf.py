"""The accounts app's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its
default (README, settings table); the rest of the app reads them through these
functions, not at import time, so tests can override them.
"""

from django.conf import settings


def login_failure_limit() -> int:
    """Failed log-ins in a row an account may have before each attempt waits."""
    return settings.LOGIN_FAILURE_LIMIT


def login_delay_seconds() -> int:
    """The first wait once the limit is passed; it doubles with each further failure."""
    return settings.LOGIN_DELAY_SECONDS


def login_delay_max_seconds() -> int:
    """The longest wait between two log-in attempts on one account."""
    return settings.LOGIN_DELAY_MAX_SECONDS


def login_failure_limit_per_address() -> int:
    """Log-in attempts one address may make, whatever the accounts, per window."""
    return settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS


def login_failure_window() -> int:
    """Seconds over which log-in failures are counted."""
    return settings.LOGIN_FAILURE_WINDOW


def signup_limit_per_address() -> int:
    """Sign-ups one address may make per signup_window()."""
    return settings.SIGNUP_LIMIT_PER_ADDRESS


def signup_window() -> int:
    return settings.SIGNUP_WINDOW


def avatar_max_bytes() -> int:
    """The largest avatar upload accepted."""
    return settings.AVATAR_MAX_BYTES


def metrics_token() -> str:
    """The bearer token that opens /metrics and /readyz from anywhere; empty means none."""
    return settings.METRICS_TOKEN


def metrics_allowed_networks() -> list[str]:
    """Networks (CIDR) that reach /metrics and /readyz without the token."""
    return settings.METRICS_ALLOWED_NETWORKS
