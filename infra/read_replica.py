"""Reads that may be a little stale go to the MariaDB read replica (DATABASE_REPLICA_URL).

Nothing reads from the replica unless a read path says it may: a view wrapped in
`stale_reads_ok` (the directory, room pages for anonymous viewers, replays, chat
history) or code inside `reading_stale_ok()`. Everything else, and always money
(balances, transfers, the ledger), moderation, sessions and anything inside a
transaction, reads from the primary. A router cannot know which reads tolerate
staleness, so the read paths opt in; that is why this is not a blanket
"all SELECTs to the replica" router.

The replica is used only while it is healthy: `SHOW SLAVE STATUS` is checked at most
every DATABASE_REPLICA_CHECK_SECONDS; a replica that does not answer, whose SQL or IO
thread stopped, or whose `Seconds_Behind_Master` exceeds DATABASE_REPLICA_MAX_LAG_SECONDS
is skipped until a later check finds it well. A replica that dies between checks fails
the view's query; `stale_reads_ok` then marks it down and runs the view again on the primary.

Read-your-writes: `ReadYourWritesMiddleware` stamps a cookie on every request that may
write (POST, PUT, PATCH, DELETE); for DATABASE_REPLICA_STICKY_SECONDS after it, that
browser's reads all go to the primary, so a user sees their own change at once.
Hand-written because django-multidb-router's pinning is per-thread and its
replica choice knows neither replication lag nor a stopped replica.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from prometheus_client import Gauge

log = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
WROTE_COOKIE = "livesite_wrote_at"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Never stale: money, moderation decisions, log-in state.
PRIMARY_ONLY_APPS = {"moderation", "sessions", "token_blacklist", "auth"}
PRIMARY_ONLY_MODELS = {"gifts.balance", "gifts.transfer", "gifts.ledgerentry"}

_stale_ok = contextvars.ContextVar("livesite_stale_ok", default=False)
_pinned = contextvars.ContextVar("livesite_pinned_to_primary", default=False)
_used_replica = contextvars.ContextVar("livesite_used_replica", default=None)


class ReplicaTrouble(Exception):
    """The replica may not serve reads now; the message says why (shown on /readyz)."""


class ReplicaUnreachable(ReplicaTrouble):
    pass


class ReplicaNotReplicating(ReplicaTrouble):
    pass


class ReplicaLagging(ReplicaTrouble):
    pass


@dataclass
class ReplicaState:
    checked_at: float = -math.inf
    lag_seconds: float = math.nan
    trouble: ReplicaTrouble | None = None


_state = ReplicaState()
_state_lock = threading.Lock()

REPLICA_LAG = Gauge(
    "livesite_database_replica_lag_seconds",
    "Seconds_Behind_Master of the read replica at its last check (NaN: unknown or stopped)",
)
REPLICA_USABLE = Gauge(
    "livesite_database_replica_usable", "1 while reads may go to the replica, else 0"
)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_replica_status() -> float:
    """The replica's lag in seconds; raises ReplicaTrouble when it may not serve reads."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SHOW SLAVE STATUS")
            row = cursor.fetchone()
            columns = [column[0] for column in cursor.description or ()]
    except DatabaseError as error:
        connections[REPLICA].close()  # a half-dead connection must not be reused
        raise ReplicaUnreachable(f"replica unreachable: {error}") from error
    if row is None:
        raise ReplicaNotReplicating("replica is not replicating (no SHOW SLAVE STATUS row)")
    status = dict(zip(columns, row, strict=False))
    threads = status.get("Slave_IO_Running"), status.get("Slave_SQL_Running")
    if threads != ("Yes", "Yes"):
        raise ReplicaNotReplicating(f"replication threads stopped (IO, SQL = {threads})")
    lag = status.get("Seconds_Behind_Master")
    if lag is None:
        raise ReplicaNotReplicating("replica lag unknown (Seconds_Behind_Master is NULL)")
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    if lag > limit:
        error = ReplicaLagging(f"replica lag {lag} s exceeds {limit} s")
        error.lag_seconds = float(lag)
        raise error
    return float(lag)


def check_replica(force: bool = False) -> ReplicaState:
    """The replica's state, checked again when the last check is older than the interval."""
    with _state_lock:
        fresh = time.monotonic() - _state.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS
        if fresh and not force:
            return _state
        try:
            _state.lag_seconds, _state.trouble = read_replica_status(), None
        except ReplicaTrouble as trouble:
            if _state.trouble is None or type(_state.trouble) is not type(trouble):
                log.warning("read replica skipped: %s", trouble)
            _state.trouble = trouble
            _state.lag_seconds = getattr(trouble, "lag_seconds", math.nan)
        _state.checked_at = time.monotonic()
        REPLICA_LAG.set(_state.lag_seconds)
        REPLICA_USABLE.set(0 if _state.trouble else 1)
        return _state


def mark_replica_down(error: BaseException) -> None:
    with _state_lock:
        _state.trouble = ReplicaUnreachable(f"replica failed a query: {error}")
        _state.lag_seconds = math.nan
        _state.checked_at = time.monotonic()
        REPLICA_LAG.set(math.nan)
        REPLICA_USABLE.set(0)
    connections[REPLICA].close()


def forget_replica_state() -> None:
    """The next read checks the replica again (tests; an operator's shell)."""
    with _state_lock:
        _state.checked_at = -math.inf


def may_read_stale(model) -> bool:
    if not _stale_ok.get() or _pinned.get() or not replica_configured():
        return False
    if model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label_lower in PRIMARY_ONLY_MODELS:
        return False
    # Inside a transaction the primary holds what this code just wrote or locked.
    return not transaction.get_connection(PRIMARY).in_atomic_block


class ReplicaRouter:
    """Django database router: reads that opted in go to a healthy replica."""

    def db_for_read(self, model, **hints):
        if may_read_stale(model) and check_replica().trouble is None:
            _used_replica.set(True)
            return REPLICA
        return PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, **hints):
        return db != REPLICA  # the replica gets its schema by replication


@contextmanager
def reading_stale_ok():
    """Reads inside may use the replica (if healthy and the user wrote nothing lately)."""
    token = _stale_ok.set(True)
    try:
        yield
    finally:
        _stale_ok.reset(token)


@contextmanager
def pinned_to_primary(pinned: bool = True):
    token = _pinned.set(pinned)
    try:
        yield
    finally:
        _pinned.reset(token)


def stale_reads_ok(view=None, *, anonymous_only: bool = False):
    """Decorate a read-only view whose reads may be a few seconds stale.

    With `anonymous_only`, signed-in users read from the primary (they may act on
    what they see). If the replica fails mid-view, the view runs again on the primary.
    """
    if view is None:
        return functools.partial(stale_reads_ok, anonymous_only=anonymous_only)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not replica_configured():
            return view(request, *args, **kwargs)
        # Who is asking is log-in state: read (session, user) from the primary, before.
        if request.user.is_authenticated and anonymous_only:
            return view(request, *args, **kwargs)
        used = _used_replica.set(False)
        try:
            with reading_stale_ok():
                return view(request, *args, **kwargs)
        except DatabaseError as error:
            if not _used_replica.get():
                raise
            log.warning("read replica failed during %s; reading from the primary", request.path)
            mark_replica_down(error)
        finally:
            _used_replica.reset(used)
        return view(request, *args, **kwargs)

    return wrapped


class ReadYourWritesMiddleware:
    """Reads of a browser that wrote in the last few seconds go to the primary.

    Sync and async capable, as daphne serves pages from the event loop; the pin is a
    context variable, which asgiref copies into the thread of a sync view.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if not replica_configured():
            return self.get_response(request)
        with pinned_to_primary(recently_wrote(request.COOKIES.get(WROTE_COOKIE))):
            response = self.get_response(request)
        stamp_write(request, response)
        return response

    async def __acall__(self, request):
        if not replica_configured():
            return await self.get_response(request)
        with pinned_to_primary(recently_wrote(request.COOKIES.get(WROTE_COOKIE))):
            response = await self.get_response(request)
        stamp_write(request, response)
        return response


def stamp_write(request, response) -> None:
    if request.method in UNSAFE_METHODS:
        sticky = settings.DATABASE_REPLICA_STICKY_SECONDS
        response.set_cookie(
            WROTE_COOKIE, f"{time.time():.3f}", max_age=sticky, httponly=True, samesite="Lax"
        )


def recently_wrote(cookie: str | None) -> bool:
    """True for a write stamp within the sticky window; a malformed stamp counts as a write
    (reading from the primary is always correct, only a little more load)."""
    if not cookie:
        return False
    try:
        wrote_at = float(cookie[:32])
    except ValueError:
        return True
    if not math.isfinite(wrote_at):
        return True
    return time.time() - wrote_at < settings.DATABASE_REPLICA_STICKY_SECONDS
