"""Redis CPU per chat event delivered to a web process's subscription (docs/scaling.md).

    .venv/bin/python bench/bench_redis_fanout.py --port 19201

How many room events one Redis can hand to web processes decides when a site of many
rooms needs sharded pub/sub (docs/scaling.md, "1,000 live rooms"). Starts a private
redis-server (no persistence, its own port and folder), opens SUBSCRIBERS connections
(one per simulated web process) each subscribed to every room channel, publishes
300-byte events round-robin over the rooms at RATE a second for SECONDS, and reads the
server's own CPU time from /proc: Redis CPU seconds per delivery is what sets its
ceiling, whether or not this machine's Python subscribers keep up.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
EVENT = (
    '{"type":"chat.message","id":"121887800558673920","room":"a-room","user":{"id":4,'
    '"name":"viewer2","role":"viewer","badges":[]},"text":"' + "x" * 150 + '"}'
).encode()


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def subscriber(url: str, channels: list[str], counts: list[int], index: int, ready):
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(*channels)
    ready.set()
    try:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                counts[index] += 1
    finally:
        await pubsub.aclose()
        await client.aclose()


async def measure(url: str, pid: int, subscribers: int, rooms: int, rate: float, seconds: float):
    channels = [f"bench:room:{n}" for n in range(rooms)]
    counts = [0] * subscribers
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = [
        asyncio.create_task(subscriber(url, channels, counts, n, readies[n]))
        for n in range(subscribers)
    ]
    await asyncio.gather(*(ready.wait() for ready in readies))
    publisher = aioredis.Redis.from_url(url)
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    published, tick = 0, 0.01
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(elapsed * rate) - published
        if due > 0:
            pipe = publisher.pipeline(transaction=False)
            for n in range(due):
                pipe.publish(channels[(published + n) % rooms], EVENT)
            await pipe.execute()
            published += due
        await asyncio.sleep(tick)
    window = time.monotonic() - started
    await asyncio.sleep(1)  # let the subscribers read what is queued
    redis_cpu = cpu_seconds(pid) - cpu_before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await publisher.aclose()
    delivered = sum(counts)
    return published, delivered, redis_cpu, window


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/bench_redis_fanout.py")
    parser.add_argument("--port", type=int, default=19201, help="the private redis-server's port")
    parser.add_argument("--subscribers", type=int, default=50, help="web processes")
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--rates", default="200,500,1000", help="events published a second")
    parser.add_argument("--seconds", type=float, default=10)
    arguments = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="bench-redis-fanout-")
    command = ["redis-server", "--port", str(arguments.port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", "--dir", folder]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    print(f"Command: `.venv/bin/python bench/bench_redis_fanout.py {' '.join(argv)}`")
    print(f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.\n")
    print(
        "| events/s | subscribers | deliveries/s wanted | delivered/s | Redis CPU s/s "
        "| Redis µs per delivery | deliveries per Redis CPU-s |"
    )
    print("|---|---|---|---|---|---|---|")
    try:
        time.sleep(0.5)
        url = f"redis://127.0.0.1:{arguments.port}/0"
        for rate in [float(r) for r in arguments.rates.split(",")]:
            published, delivered, cpu, window = asyncio.run(
                measure(
                    url, server.pid, arguments.subscribers, arguments.rooms, rate, arguments.seconds
                )
            )
            per = cpu / delivered * 1e6 if delivered else float("nan")
            print(
                f"| {published / window:,.0f} | {arguments.subscribers} | "
                f"{published * arguments.subscribers / window:,.0f} | {delivered / window:,.0f} "
                f"| {cpu / window:.2f} | {per:.1f} | {delivered / cpu if cpu else 0:,.0f} |",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
