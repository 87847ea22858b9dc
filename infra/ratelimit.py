"""Counting repeated actions per key in a time window, on the shared cache.

Used by log-in and sign-up throttling today and by anything else a user can
repeat. It sits on Django's cache so that, with Redis configured, every web
process shares the same counters (the site runs as several web processes, and
a limit one process alone counted would be that many times too loose). Written
here rather than taken from django-ratelimit because that library is built
around view decorators and request objects, while these counters are also read
by services, API views and async consumers. `cache.add` + `cache.incr` are
atomic on Redis.
"""

import contextlib

from django.core.cache import cache


def _key(scope: str, identity: str) -> str:
    return f"ratelimit:{scope}:{identity}"


def count(scope: str, identity: str) -> int:
    return cache.get(_key(scope, identity), 0)


def hit(scope: str, identity: str, window_seconds: int) -> int:
    """Count one more action; the count resets `window_seconds` after the first."""
    key = _key(scope, identity)
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return 1


def exceeded(scope: str, identity: str, limit: int) -> bool:
    return count(scope, identity) >= limit


def reset(scope: str, identity: str) -> None:
    cache.delete(_key(scope, identity))


def release(scope: str, identity: str) -> None:
    """Take back one counted action (one that was refused, or turned out not to count)."""
    with contextlib.suppress(ValueError):  # already expired: nothing to take back
        cache.decr(_key(scope, identity))


def extend(scope: str, identity: str, window_seconds: int) -> None:
    """Keep the count for `window_seconds` from now (a sliding window of quiet)."""
    cache.touch(_key(scope, identity), window_seconds)


def claim(scope: str, identity: str, window_seconds: int) -> bool:
    """True for exactly one caller per identity in the window, however many race."""
    return cache.add(_key(scope, identity), 1, timeout=window_seconds)


def remember(scope: str, identity: str, value, window_seconds: int) -> None:
    cache.set(_key(scope, identity), value, timeout=window_seconds)


def remember_once(scope: str, identity: str, value, window_seconds: int) -> bool:
    """Store `value` unless something is stored already (atomic); True if it was stored."""
    return cache.add(_key(scope, identity), value, timeout=window_seconds)


def recall(scope: str, identity: str):
    return cache.get(_key(scope, identity))
