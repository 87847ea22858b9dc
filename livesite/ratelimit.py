"""Counting repeated actions per key in a time window, on the shared cache.

Used by log-in and sign-up throttling today and by anything else a user can
repeat. It sits on Django's cache so that, with Redis configured, every web
process shares the same counters (ARCHITECTURE.md: nothing that matters may
assume a single process). Written here rather than taken from django-ratelimit
because that library is built around view decorators and request objects,
while these counters are also read by services, API views and async
consumers. `cache.add` + `cache.incr` are atomic on Redis.
"""

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
