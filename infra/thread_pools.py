"""The bounded thread pools a web process runs blocking work on, one per kind of work.

Gift sends (database transactions that wait for gifts' group commit) and HLS origin
file reads used to share the event loop's default executor, six threads on a two-core
machine: a burst of gift sends waiting on the database held every thread, and players
waited behind them for segments that were on disk all along. Each kind now has its own
pool, sized by settings (GIFTS_SEND_THREADS, ORIGIN_READ_THREADS), so one cannot starve
the other; the chat writer has its own single thread (chat/writer.py).
"""

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from django.conf import settings


@cache
def gift_sends() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(settings.GIFTS_SEND_THREADS, thread_name_prefix="gift-send")


@cache
def origin_reads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(settings.ORIGIN_READ_THREADS, thread_name_prefix="origin-read")
