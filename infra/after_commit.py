"""Work done after a transaction commits that must never fail the request that committed.

Services publish events, refresh caches and queue tasks once their transaction
commits (`transaction.on_commit`). By then the change is made: if Redis or the
broker refuses at that moment, the user must not get a 500 for a change that
happened. `after_commit` runs the work, and on failure logs it and counts it in
`livesite_after_commit_failures_total{work}` on /metrics. Django's own
`on_commit(robust=True)` logs but counts nothing, and does not cover the case
outside a transaction, where the callback runs at once.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from prometheus_client import Counter

log = logging.getLogger(__name__)

FAILURES = Counter(
    "livesite_after_commit_failures_total",
    "Work after a committed change that failed (events not sent, caches not updated)",
    ["work"],
)


def run_safely(work: Callable[[], object], name: str) -> None:
    try:
        work()
    except Exception:
        log.exception("after a commit, %s failed", name)
        FAILURES.labels(name).inc()


def after_commit(work: Callable[[], object], name: str) -> None:
    """Run `work` once the surrounding transaction commits; a failure is logged, not raised."""
    transaction.on_commit(lambda: run_safely(work, name))
