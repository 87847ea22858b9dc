"""Benchmark: the moderation gate as chat pays for it on every message.

Run from the project root (about a minute), with a Redis to measure the production path:

    .venv/bin/python bench/bench_moderation_gate.py --redis-url redis://127.0.0.1:6379/12

`chat.services.send_message` awaits `moderation.gate.screen_message` once per message:
the restriction lookup (ban, timeout, the rules token: one MGET of four keys) and
the room's compiled filter. This times that call as a whole, one message at a time
on an event loop, in wall time (it includes the Redis round trip), for 1,000 and
10,000 blocked terms, on the corpus of bench/bench_chat_filter.py:

* gate, embedded store: no Redis (the one-process install keeps restrictions in a dict);
* gate, Redis: the production path;
* lookup alone, Redis: the round trip without the filter;
* filter alone: `ChatFilter.check`, for reference (CPU only).

Nothing touches the database: the room's rules are compiled up front and its
markers set, as they are after a room's first message. Keys live under a fresh
prefix and are deleted at the end.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

import django  # noqa: E402

django.setup()

from bench_chat_filter import SEED, blocked_term_list, chat_corpus  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.errors import ChatError  # noqa: E402
from chat.services import Session  # noqa: E402
from moderation import enforcement, gate, room_rules  # noqa: E402
from moderation.filtering import compile_filter  # noqa: E402
from realtime.redis_client import close_redis, get_redis  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_moderation_gate.py --redis-url redis://127.0.0.1:6379/12"
TERM_COUNTS = (1_000, 10_000)
ROUNDS = 3
ROOM_ID, USER_ID = 1, 2


def prepare(terms) -> Session:
    """Rules compiled and markers set, as after the room's first message."""
    compiled = room_rules.CompiledRules(compile_filter(terms), followers_only=False)
    room_rules._rooms[ROOM_ID] = ("bench-room", "bench-site", compiled)
    enforcement.mark_loaded(ROOM_ID, [], "bench-room")
    enforcement.mark_loaded(None, [], "bench-site")
    user = {"id": USER_ID, "name": "bench", "role": "viewer", "badges": []}
    return Session(ROOM_ID, "bench", None, user, can_chat=True, can_moderate=False)


async def time_calls(call, corpus: list[str]) -> tuple[list[float], list[float]]:
    """Microseconds per call, wall and CPU time (this thread: the event loop), every
    message of every round."""
    wall, cpu = [], []
    for _ in range(ROUNDS):
        for text in corpus:
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            with contextlib.suppress(ChatError):  # blocked: the gate did its work all the same
                await call(text)
            cpu.append((time.thread_time_ns() - started_cpu) / 1000)
            wall.append((time.perf_counter_ns() - started) / 1000)
    return wall, cpu


async def measure(terms, corpus: list[str], redis_url: str | None) -> list[tuple[str, list]]:
    rows = []
    settings.REDIS_URL = ""
    session = prepare(terms)
    rows.append(
        (
            "gate, embedded store",
            await time_calls(lambda text: gate.screen_message(session, text), corpus),
        )
    )
    if redis_url:
        settings.REDIS_URL = redis_url
        session = prepare(terms)
        await get_redis().ping()
        rows.append(
            (
                "gate, Redis",
                await time_calls(lambda text: gate.screen_message(session, text), corpus),
            )
        )
        rows.append(
            (
                "lookup alone, Redis",
                await time_calls(lambda text: enforcement.alookup(ROOM_ID, USER_ID), corpus),
            )
        )
    chat_filter = room_rules._rooms[ROOM_ID][2].chat_filter

    async def check(text):
        chat_filter.check(text)

    rows.append(("filter alone", await time_calls(check, corpus)))
    return rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(redis_url: str | None) -> None:
    settings.REDIS_KEY_PREFIX = f"bench-gate-{uuid.uuid4().hex[:8]}"
    print(f"# Moderation gate benchmark\n\nCommand: `{COMMAND}`\n")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()} on {platform.machine()} with {os.cpu_count()} "
        f"CPUs (load average {load} at start); Redis {redis_url or 'not used'}.\n"
    )
    all_terms = blocked_term_list(max(TERM_COUNTS), random.Random(SEED))
    print("| terms | what | median µs | p99 µs | CPU median µs |")
    print("| ---: | --- | ---: | ---: | ---: |")
    try:
        for count in TERM_COUNTS:
            terms = all_terms[:count]
            corpus = chat_corpus(terms, random.Random(SEED + count))
            for name, (wall, cpu) in await measure(terms, corpus, redis_url):
                median, p99 = statistics.median(wall), percentile(wall, 0.99)
                print(
                    f"| {count:,} | {name} | {median:.1f} | {p99:.1f} | "
                    f"{statistics.median(cpu):.1f} |"
                )
    finally:
        if redis_url:
            settings.REDIS_URL = redis_url
            client = get_redis()
            keys = [key async for key in client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*")]
            if keys:
                await client.delete(*keys)
            await close_redis()
    print(
        "\nWall time per message on one event loop, one message at a time, "
        f"{ROUNDS} rounds of the corpus; CPU time is the event loop thread's (while it waits "
        "for Redis the loop is free to serve other sockets)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", help="measure the Redis path against this Redis")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.redis_url))
