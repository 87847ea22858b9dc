"""Group commit: concurrent callers in one process share one transaction.

A gift send alone is a handful of statements and a durable commit, and on
two cores the round trips, not MariaDB's work, are most of its cost. On a busy
stream a process is writing many sends at once, so they go in together: the
first caller with nothing in flight leads. It takes what is queued (at most
`max_batch` orders, at most one per key such as the sender, because one
sender's sends must see each other committed), hands them to `write` in one
go, answers each, and passes the lead to a caller still waiting. Nobody waits
for a timer: a caller alone is a batch of one, and a batch grows only while
the one before it is being written (the way databases batch their own
commits). A caller inside a transaction of its own never joins a batch: its
writes must commit or roll back with that transaction.

`write` may return a callable: the batch's after-commit work (Redis, frames).
The leader runs it only once every caller of the batch has its answer and the
lead has passed on, so a slow or unreachable Redis never holds up the sends
behind it.

Written here because no library does this for synchronous Django code; the
chat's message writer (chat.writer) batches on the event loop instead.
"""

import copy
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


class Order:
    """One caller's request; `write` sets `outcome` to a result or an exception instance."""

    __slots__ = ("_answered", "_lead", "key", "outcome", "payload")

    def __init__(self, key: Hashable, payload: Any):
        self.key = key
        self.payload = payload
        self.outcome: Any = None
        self._answered = False
        self._lead = False


class GroupCommit:
    def __init__(self, write: Callable[[list[Order]], Callable | None], max_batch: int = 50):
        self._write = write
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[Order] = deque()
        self._leading = False

    def submit(self, order: Order) -> Any:
        """Write `order` (alone or with others) and return its outcome, or raise it."""
        if transaction.get_connection().in_atomic_block:
            _after(self._run([order]))
            return _answer(order)
        with self._lock:
            self._queue.append(order)
            following = self._leading
            self._leading = True
        if following:
            # A caller that waits for the leader must not sit on a database connection:
            # with every connection of the process held by waiters, a leader that has none
            # yet would wait for one until DATABASE_CONNECTION_WAIT (infra/db/pool.py).
            transaction.get_connection().close()
            with self._lock:
                while not (order._answered or order._lead):
                    self._wake.wait()
                if order._answered:
                    return _answer(order)
        afterwards = []
        try:
            while not order._answered:
                afterwards.append(self._run(self._take()))
        finally:
            self._pass_lead()
            for work in afterwards:
                _after(work)
        return _answer(order)

    def _take(self) -> list[Order]:
        with self._lock:
            batch, keys, later = [], set(), []
            while self._queue and len(batch) < self._max_batch:
                order = self._queue.popleft()
                if order.key in keys:
                    later.append(order)  # the next batch: after this one commits
                else:
                    keys.add(order.key)
                    batch.append(order)
            self._queue.extendleft(reversed(later))
            return batch

    def _run(self, batch: list[Order]) -> Callable | None:
        """Write `batch` and answer each of its callers; the batch's after-commit work."""
        try:
            return self._write(batch)
        except Exception as error:
            for order in batch:
                order.outcome = error
            for order in batch:
                order.outcome = _copied(error)  # each caller raises its own instance
        except BaseException as error:  # the leader's thread is going down: answer first
            for order in batch:
                order.outcome = error
            raise
        finally:
            with self._lock:
                for order in batch:
                    order._answered = True
                self._wake.notify_all()
        return None

    def _pass_lead(self) -> None:
        with self._lock:
            if self._queue:
                self._queue[0]._lead = True  # it is still queued: it takes itself first
                self._wake.notify_all()
            else:
                self._leading = False


def _copied(error: Exception) -> Exception:
    try:
        twin = copy.copy(error)
    except Exception:  # an exception whose constructor does not take its own args
        return error
    twin.__cause__, twin.__traceback__ = error.__cause__, error.__traceback__
    return twin


def _after(work: Callable | None) -> None:
    if work is None:
        return
    try:
        work()
    except Exception:  # the batch has committed and been answered: log, never raise
        log.exception("group commit: after-commit work failed")


def _answer(order: Order) -> Any:
    if isinstance(order.outcome, BaseException):
        raise order.outcome
    return order.outcome
