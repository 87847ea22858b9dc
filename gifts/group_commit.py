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

Written here because no library does this for synchronous Django code; the
chat's message writer (chat.writer) batches on the event loop instead.
"""

import copy
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from django.db import transaction


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
    def __init__(self, write: Callable[[list[Order]], None], max_batch: int = 50):
        self._write = write
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[Order] = deque()
        self._leading = False

    def submit(self, order: Order) -> Any:
        """Write `order` (alone or with others) and return its outcome, or raise it."""
        if transaction.get_connection().in_atomic_block:
            self._run([order])
            return _answer(order)
        with self._lock:
            self._queue.append(order)
            if self._leading:
                while not (order._answered or order._lead):
                    self._wake.wait()
                if order._answered:
                    return _answer(order)
            self._leading = True
        try:
            while not order._answered:
                self._run(self._take())
        finally:
            self._pass_lead()
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

    def _run(self, batch: list[Order]) -> None:
        try:
            self._write(batch)
        except Exception as error:
            for order in batch:
                order.outcome = copy.copy(error)  # each caller raises its own instance
        except BaseException as error:  # the leader's thread is going down: answer first
            for order in batch:
                order.outcome = error
            raise
        finally:
            with self._lock:
                for order in batch:
                    order._answered = True
                self._wake.notify_all()

    def _pass_lead(self) -> None:
        with self._lock:
            if self._queue:
                self._queue[0]._lead = True  # it is still queued: it takes itself first
                self._wake.notify_all()
            else:
                self._leading = False


def _answer(order: Order) -> Any:
    if isinstance(order.outcome, BaseException):
        raise order.outcome
    return order.outcome
