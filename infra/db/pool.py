"""A cap on the database connections a process holds, and their reuse between threads.

Why it exists. Django keeps one connection per thread and closes it at the end of a
request only when CONN_MAX_AGE says so. Under ASGI each request runs its sync code
(middleware, view, the `request_finished` signal) on a thread of its own: asgiref's
`ThreadSensitiveContext` gives every request a one-thread executor and shuts it down
when the request ends. A connection kept open "for the next request" belongs to a
thread that is gone. Django's `DatabaseWrapper` refers to itself (through `ops`,
`features`, `client` ...), so only the cyclic garbage collector frees it, and the
MySQL socket with it. With `livesite/asgi.py` raising the collector's thresholds for
chat latency, one daphne process kept a connection for every request it had served
(200 page views left 128 open) until MariaDB refused every process at
`max_connections`. Connections must not wait for the collector.

What it does. The web closes its connection at the end of every request, and
Channels around every `database_sync_to_async` call (CONN_MAX_AGE=0, set in
`livesite/config.py`). The engine (`infra/db/mysql/base.py`) hands the MySQL
connection back here instead of closing it, and takes one from here instead of
connecting, so closing is cheap and happens at a known moment. At most `limit`
connections are open in the process, idle ones included; a thread that needs one
when all are in use waits up to `wait` seconds and then gets
`ConnectionPoolTimeout`, which the web answers with 503 (`infra/db/views.py`).
A thread that ends still holding a connection (a request whose client left before
the response, so `request_finished` never came) gives it back when the thread's
local state is cleared at thread exit, which is reference counting, not the
collector: `Lease` objects are held only by a `threading.local` and sit in no cycle.

What it does not do. A reused connection keeps whatever session variables its last user
set; the site sets none beyond what every connection gets when it is opened (character
set, sql_mode, time zone, isolation level), and a connection handed back inside a
transaction, or after a database error, is closed rather than reused.

Why no library. Django's own pool (5.1+) is for PostgreSQL only.
django-db-connection-pool wraps SQLAlchemy's QueuePool, which returns a connection
whose holder forgot it only when its wrapper object is garbage collected: the very
dependence on the collector this module removes, for a large dependency.
"""

import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from django.db import OperationalError

log = logging.getLogger(__name__)

# An idle connection unused this long is closed, so a burst does not keep connections
# open at the server for good (the same minute the site used as CONN_MAX_AGE).
IDLE_SECONDS = 60.0


class ConnectionPoolTimeout(OperationalError):
    """Every connection of this process stayed in use for the whole wait."""


class Lease:
    """One open connection lent to one thread; closed if that thread ends without returning it."""

    __slots__ = ("__weakref__", "key", "pool", "raw", "returned", "reused")

    def __init__(self, pool: "ConnectionPool", key: Any, raw: Any, reused: bool):
        self.pool = pool
        self.key = key
        self.raw = raw
        self.reused = reused
        self.returned = False

    def __del__(self):
        if self.returned:
            return
        # At interpreter exit the pool may be half torn down already: nothing left to free.
        with contextlib.suppress(Exception):
            self.pool.check_in(self, reusable=False)


class ConnectionPool:
    """At most `limit` open connections, shared by every thread of the process.

    `key` tells connections to different servers or databases apart (the test
    runner renames the database under a running process); idle connections of
    another key are closed to make room when the cap is reached.
    """

    def __init__(self, limit: int, wait: float, health_checks: bool = True):
        self.limit = limit
        self.wait = wait
        self.health_checks = health_checks
        self.open = 0
        self._idle: dict[Any, deque] = {}  # key -> (raw, idle since), last in first out
        self._changed = threading.Condition()
        self._held = threading.local()  # this thread's leases: dropped when it ends
        self._lent: weakref.WeakSet[Lease] = weakref.WeakSet()

    def check_out(self, key: Any, connect: Callable[[], Any]) -> Lease:
        """A connection for `key`: an idle one if there is one, a new one if under the cap."""
        deadline = time.monotonic() + self.wait
        while True:
            raw, stale = self._take_idle_or_slot(key, deadline)
            self._close_all(stale)
            if raw is None:
                return self._lend(key, self._connect(connect), reused=False)
            if not self.health_checks or _answers(raw):
                return self._lend(key, raw, reused=True)
            self._close_all([raw])
            with self._changed:
                self.open -= 1
                self._changed.notify()

    def check_in(self, lease: Lease, reusable: bool) -> None:
        """`lease` back from its thread: kept idle for the next one, or closed."""
        with self._changed:
            if lease.returned:
                return
            lease.returned = True
            if reusable:
                self._idle.setdefault(lease.key, deque()).append((lease.raw, time.monotonic()))
                self._changed.notify()
                return
        self._close_all([lease.raw])
        with self._changed:
            self.open -= 1
            self._changed.notify()

    def in_use(self) -> int:
        with self._changed:
            return self.open - sum(len(idle) for idle in self._idle.values())

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's connections are the parent's; never close them here."""
        # Closing or freeing one would send COM_QUIT down the parent's socket: keep them all.
        _INHERITED.extend(raw for idle in self._idle.values() for raw, _ in idle)
        for lease in list(self._lent):
            lease.returned = True
            _INHERITED.append(lease.raw)
        self._idle = {}
        self.open = 0
        self._changed = threading.Condition()
        self._held = threading.local()

    def _take_idle_or_slot(self, key: Any, deadline: float) -> tuple[Any, list]:
        """(an idle connection or None for a free slot, idle connections to close)."""
        stale = []
        with self._changed:
            while True:
                stale += self._expire_idle()
                idle = self._idle.get(key)
                if idle:
                    return idle.pop()[0], stale
                if self.open < self.limit:
                    self.open += 1
                    return None, stale
                other = next((queue for queue in self._idle.values() if queue), None)
                if other:  # a connection to another database makes room for this one
                    stale.append(other.popleft()[0])
                    return None, stale  # the slot passes from the closed one to the caller
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._close_all(stale)
                    raise ConnectionPoolTimeout(
                        f"all {self.limit} database connections of this process stayed in "
                        f"use for {self.wait} s (DATABASE_MAX_CONNECTIONS, "
                        "DATABASE_CONNECTION_WAIT)"
                    )
                self._changed.wait(remaining)

    def _expire_idle(self) -> list:
        """Idle connections past IDLE_SECONDS, removed and uncounted (caller holds the lock)."""
        cutoff = time.monotonic() - IDLE_SECONDS
        expired = []
        for idle in self._idle.values():
            while idle and idle[0][1] < cutoff:
                expired.append(idle.popleft()[0])
        self.open -= len(expired)
        return expired

    def _connect(self, connect: Callable[[], Any]) -> Any:
        try:
            return connect()
        except BaseException:
            with self._changed:
                self.open -= 1
                self._changed.notify()
            raise

    def _lend(self, key: Any, raw: Any, reused: bool) -> Lease:
        lease = Lease(self, key, raw, reused)
        held = getattr(self._held, "leases", None)
        if held is None:
            held = self._held.leases = []
        held[:] = [other for other in held if not other.returned]
        held.append(lease)
        self._lent.add(lease)
        return lease

    @staticmethod
    def _close_all(connections: list) -> None:
        for raw in connections:
            try:
                raw.close()
            except Exception:  # already closed, or the server went away: it is gone either way
                log.debug("closing a pooled database connection failed", exc_info=True)


def _answers(raw: Any) -> bool:
    try:
        raw.ping()
    except Exception:
        return False
    return True


_INHERITED: list = []
_pools: dict[tuple[int, float], ConnectionPool] = {}
_pools_lock = threading.Lock()


def process_pool(limit: int, wait: float, health_checks: bool) -> ConnectionPool:
    """The process's pool for these limits (one in practice: the settings are per process)."""
    with _pools_lock:
        pool = _pools.get((limit, wait))
        if pool is None:
            pool = _pools[(limit, wait)] = ConnectionPool(limit, wait, health_checks)
        return pool


def _forget_pools_after_fork() -> None:
    for pool in _pools.values():
        pool.forget_after_fork()


os.register_at_fork(after_in_child=_forget_pools_after_fork)
