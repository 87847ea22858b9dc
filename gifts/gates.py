"""Once-per-window gates shared by every process, asked of the shared cache sparingly.

A gate lets one caller through per window across all web processes (the
shared cache's atomic `add`; Redis in production). On a busy stream every
send asks, so each process also remembers what the cache answered: after
winning it knows the gate is shut for the whole window, and after losing it
does not ask again for `recheck` seconds. Callers pick `recheck` shorter than
the slack their gated work allows (see services._schedule_statistics).
"""

import time

from django.core.cache import cache

MAX_REMEMBERED = 10_000
_shut_until: dict[str, float] = {}  # gate name -> monotonic time this process need not ask before


def pass_once(name: str, window: float, recheck: float) -> bool:
    """True for the first caller through gate `name` in `window` seconds, across processes."""
    now = time.monotonic()
    if _shut_until.get(name, 0.0) > now:
        return False
    won = cache.add(f"gifts:gate:{name}", 1, max(1, round(window)))
    if len(_shut_until) > MAX_REMEMBERED:
        _shut_until.clear()
    _shut_until[name] = now + (window if won else recheck)
    return won


def forget() -> None:
    """Drop what this process remembers (tests, which swap the cache under it)."""
    _shut_until.clear()
