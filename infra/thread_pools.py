"""The bounded thread pools a web process runs blocking work on, one per kind of work.

Gift sends (database transactions that wait for gifts' group commit) and HLS origin
file reads used to share the event loop's default executor, six threads on a two-core
machine: a burst of gift sends waiting on the database held every thread, and players
waited behind them for segments that were on disk all along. Each kind now has its own
pool, named by the app that uses it and sized by that app's setting (gifts:
GIFTS_SEND_THREADS, streaming: ORIGIN_READ_THREADS), so one cannot starve the other;
the chat writer has its own single thread (chat/writer.py).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(kind: str, threads: int) -> ThreadPoolExecutor:
    """The process's pool for one kind of work, made with `threads` threads on first use."""
    executor = _pools.get(kind)
    if executor is None:
        with _lock:
            executor = _pools.get(kind)
            if executor is None:
                executor = _pools[kind] = ThreadPoolExecutor(threads, thread_name_prefix=kind)
    return executor
