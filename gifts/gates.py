"""Once-per-window gates shared by every process, asked of Redis sparingly.

A gate lets one caller through per window across all web processes (an atomic
SET NX with an expiry; the shared cache's `add` without Redis). On a busy
stream every send asks, so each process also remembers the answer: after
winning it knows the gate is shut for the whole window, and after losing it
reads, in the same round trip, when the winner's window ends, and does not ask
again before then. (It used to ask again every `recheck` seconds: with fifty
busy rooms that was two Redis round trips a gift, most of the gift bench's
Redis traffic.) `recheck` only bounds the wait when the end is unknown (the
embedded cache); callers pick it shorter than the slack their gated work
allows (see services._schedule_statistics).
"""

import time

from django.core.cache import cache

from realtime.redis_client import get_sync_redis, redis_key

MAX_REMEMBERED = 10_000
_shut_until: dict[str, float] = {}  # gate name -> monotonic time this process need not ask before


def pass_once(name: str, window: float, recheck: float) -> bool:
    """True for the first caller through gate `name` in `window` seconds, across processes."""
    now = time.monotonic()
    if _shut_until.get(name, 0.0) > now:
        return False
    won, shut_for = _ask(name, window, recheck)
    if len(_shut_until) > MAX_REMEMBERED:
        _shut_until.clear()
    _shut_until[name] = now + shut_for
    return won


def _ask(name: str, window: float, recheck: float) -> tuple[bool, float]:
    """(won, seconds the gate stays shut for this process)."""
    client = get_sync_redis()
    milliseconds = max(1, round(window * 1000))
    if client is None:
        won = cache.add(f"gifts:gate:{name}", 1, max(1, round(window)))
        return won, window if won else recheck
    key = redis_key("gifts", "gate", name)
    pipe = client.pipeline(transaction=False)
    pipe.set(key, 1, nx=True, px=milliseconds)
    pipe.pttl(key)
    won, left = pipe.execute()
    if won:
        return True, window
    return False, left / 1000 if left > 0 else recheck


def forget() -> None:
    """Drop what this process remembers (tests, which swap the cache under it)."""
    _shut_until.clear()
