"""Livesite's ASGI application with an object census, for bench/bench_socket_memory.py --trace.

Each SIGUSR1 counts every object the collector tracks, by type, with its size
(sys.getsizeof, plus its instance __dict__); the second and later signals write
what changed since the first to $BENCH_TRACE_DIR/census-<n>.txt, largest first:
what the sockets opened in between hold. (tracemalloc made daphne too slow to
finish its handshakes on a loaded machine.) Strings and bytes inside containers
are not tracked by the collector, so they are missing from the census.
"""

import gc
import itertools
import os
import signal
import sys
from collections import Counter

from livesite.asgi import application  # noqa: F401 -- what daphne serves

_numbers = itertools.count(1)
_first: tuple[Counter, Counter] | None = None


def _census() -> tuple[Counter, Counter]:
    counts, sizes = Counter(), Counter()
    for item in gc.get_objects():
        kind = type(item)
        name = f"{kind.__module__}.{kind.__qualname__}"
        counts[name] += 1
        size = sys.getsizeof(item)
        instance_dict = getattr(item, "__dict__", None) if not isinstance(item, type) else None
        if isinstance(instance_dict, dict):
            size += sys.getsizeof(instance_dict)
        sizes[name] += size
    return counts, sizes


def _dump(_signal, _frame) -> None:
    global _first
    gc.collect()
    if _first is None:
        _first = _census()
        return
    counts, sizes = _census()
    grown = {name: sizes[name] - _first[1][name] for name in sizes}
    lines = [
        f"{grown[name]:>12,} B {counts[name] - _first[0][name]:>8,} x {name}"
        for name in sorted(grown, key=grown.get, reverse=True)[:80]
    ]
    total = sum(grown.values())
    path = os.path.join(os.environ["BENCH_TRACE_DIR"], f"census-{next(_numbers)}.txt")
    with open(path, "w") as out:
        out.write(f"total {total:,} B in collector-tracked objects\n" + "\n".join(lines) + "\n")


signal.signal(signal.SIGUSR1, _dump)
