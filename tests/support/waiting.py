"""Waiting for something in a test: poll until it is true, and fail at a deadline.

A fixed sleep is either too short on a loaded machine (a flaky failure) or too long
everywhere (a slow suite). Tests wait for the thing itself; a sleep is left only
where time passing is the behaviour under test (a lock's lifetime, a window), and
says so.
"""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval=0.05):
    """Poll `condition` until it is true; its value, or AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


async def eventually(condition: Callable[[], object], timeout: float, what: str, interval=0.05):
    """`wait_until` for a coroutine: the event loop runs meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def process_gone(pid: int) -> bool:
    """The process has exited (a zombie not yet reaped by its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in {"Z", "X"}
