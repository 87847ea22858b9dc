"""Batched Celery consumers: chat scoring and gift statistics, one message per task against
many per task, through a real broker and real worker processes.

- **Chat scoring.** Web processes gather message ids and queue one `score_messages` task
  per batch (`MODERATION_SCORING_BATCH_SIZE`, 200; moderation.gate.ScoringQueue). The
  bench queues the same `--messages` chat messages (one in 50 a copy-paste raid line, the
  rest ordinary chat) as tasks of `--batches` sizes, 1 being one task per message, and
  times from the first `apply_async` to the last result: messages scored a second, and
  the producer's own time in `apply_async` (what a web process pays).
- **Gift statistics.** A send queues at most one recomputation per stream (and day) per
  `GIFTS_STATS_DELAY_SECONDS` window (gifts.services.after_send._schedule_statistics). The bench
  sends `--gifts` gifts over `--streams` streams, then times the worker on one
  `refresh_stream_stats` per send (what a naive consumer does) against one per stream.

Sizes alternate (A B A B) for `--rounds` rounds; ratios are against batch size 1. Uses its
own database (`livesite_batching_bench`, recreated), the Redis database of `--redis-url`
for results, and the broker of `--broker-url` (RabbitMQ here: a vhost of the bench's own
that it creates with rabbitmqctl and deletes afterwards; quorum queues as in production).

    .venv/bin/python bench/bench_task_batching.py --messages 4000 --gifts 1000 --rounds 2
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "livesite_batching_bench"
RAID = "Follow my channel for FREE coins!!! link in bio"


def setup_django(redis_url: str, broker_url: str) -> None:
    defaults = {
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DATABASE}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_SETTINGS_MODULE": "livesite.settings",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",  # production settings: DEBUG records every query
        "SECRET_KEY": "bench-only-not-secret",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_worker(queue: str, concurrency: int) -> None:
    from livesite.celery import app

    app.worker_main(
        ["worker", "--queues", queue, "--concurrency", str(concurrency), "--pool", "prefork",
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
         "--hostname", f"{queue}@%h"]
    )  # fmt: skip


def recreate_database() -> None:
    import MySQLdb

    connection = MySQLdb.connect(host="127.0.0.1", user="root")
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    cursor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def populate(messages: int, gifts: int, streams: int):
    from django.core.management import call_command
    from django.utils import timezone

    from accounts import services as accounts
    from chat.ids import next_message_id
    from chat.models import ChatMessage
    from gifts.catalog import seed_demo_catalog
    from gifts.services import coins, sending
    from rooms import services as rooms

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: the manifest
    viewers = [
        accounts.sign_up(f"viewer{n}", f"viewer{n}@example.com", "x" * 12) for n in range(40)
    ]
    star = accounts.enable_broadcasting(accounts.sign_up("star", "star@example.com", "x" * 12))
    room = rooms.create_room(star, "Busy room")
    rooms.start_stream(room)
    now = timezone.now()
    ChatMessage.objects.bulk_create(
        [
            ChatMessage(
                id=next_message_id(),
                room=room,
                user=viewers[n % len(viewers)],
                text=RAID if n % 50 == 0 else f"gg that was close, round {n}",
                created_at=now - timedelta(seconds=(messages - n) / 20),  # 20 a second
            )
            for n in range(messages)
        ]
    )
    message_ids = list(ChatMessage.objects.order_by("pk").values_list("pk", flat=True))

    stream_rooms = []
    for n in range(streams):
        owner = accounts.enable_broadcasting(
            accounts.sign_up(f"streamer{n}", f"streamer{n}@example.com", "x" * 12)
        )
        stream_room = rooms.create_room(owner, f"Room {n}")
        rooms.start_stream(stream_room)
        stream_room.refresh_from_db()
        stream_rooms.append(stream_room)
    seed_demo_catalog()
    sender = viewers[0]
    coins.grant_coins(sender, gifts * 10, "bench")
    # One sender makes every send here: the per-sender rate is not what this bench measures.
    sending.SEND_BURST = sending.SEND_RATE_PER_SECOND = gifts + 1
    for n in range(gifts):
        target = stream_rooms[n % streams]
        sending.send_gift(sender, target, "heart", 1, uuid.uuid4().hex)
    stream_pairs = [(r.current_stream_id, r.owner_id) for r in stream_rooms]
    return message_ids, stream_pairs


def reset_verdicts() -> None:
    from chat.models import ChatMessage
    from moderation.models import AuditEntry, ReviewItem

    AuditEntry.objects.all().delete()
    ReviewItem.objects.all().delete()
    ChatMessage.objects.update(deleted_at=None)


def time_scoring(queue: str, message_ids: list[int], batch: int) -> tuple[float, float]:
    """(messages scored a second, producer seconds per 1,000 messages)."""
    from celery.result import ResultSet

    from moderation import tasks

    reset_verdicts()
    began = time.perf_counter()
    results = [
        tasks.score_messages.apply_async((message_ids[start : start + batch],), queue=queue)
        for start in range(0, len(message_ids), batch)
    ]
    produced = time.perf_counter() - began
    ResultSet(results).join(timeout=900, propagate=True)
    took = time.perf_counter() - began
    return len(message_ids) / took, produced / len(message_ids) * 1000


def time_statistics(queue: str, pairs: list[tuple[int, int]], gifts: int, per_send: bool):
    """Seconds for the worker to bring every stream's statistics up to date."""
    from celery.result import ResultSet

    from gifts import tasks

    jobs = [pairs[n % len(pairs)] for n in range(gifts)] if per_send else pairs
    began = time.perf_counter()
    results = [tasks.refresh_stream_stats.apply_async(job, queue=queue) for job in jobs]
    ResultSet(results).join(timeout=900, propagate=True)
    return time.perf_counter() - began, len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--batches", default="1,20,200", help="task sizes, comma separated")
    parser.add_argument("--gifts", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--broker-url", help="default: a RabbitMQ vhost of the bench's own")
    parser.add_argument("--worker-queue", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker_queue:  # this script, started again as the worker
        setup_django(args.redis_url, args.broker_url)
        run_worker(args.worker_queue, args.workers)
        return

    vhost = None
    if not args.broker_url:
        vhost = f"livesite_bench_{os.getpid()}"
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
        )
        args.broker_url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    worker = None
    try:
        recreate_database()
        setup_django(args.redis_url, args.broker_url)
        message_ids, pairs = populate(args.messages, args.gifts, args.streams)
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        worker = subprocess.Popen(
            [sys.executable, __file__, "--worker-queue", queue, "--workers", str(args.workers),
             "--redis-url", args.redis_url, "--broker-url", args.broker_url],
            env=os.environ.copy(),
        )  # fmt: skip
        from livesite.celery import app

        name = f"{queue}@"
        deadline = time.monotonic() + 60
        while not any(n.startswith(name) for n in (app.control.ping(timeout=1) or [{}])[0]):
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not start")
        sizes = [int(size) for size in args.batches.split(",")]
        scoring = {size: [] for size in sizes}
        stats = {True: [], False: []}
        time_scoring(queue, message_ids[:200], 50)  # warm the worker's processes
        for round_number in range(args.rounds):
            for size in sizes:
                rate, producer = time_scoring(queue, message_ids, size)
                scoring[size].append((rate, producer))
                print(f"round {round_number} scoring batch={size}: {rate:,.0f} messages/s, "
                      f"producer {producer:.2f} s per 1,000", flush=True)  # fmt: skip
            for per_send in (True, False):
                took, count = time_statistics(queue, pairs, args.gifts, per_send)
                stats[per_send].append(took)
                label = "per send" if per_send else "per stream"
                print(f"round {round_number} statistics {label}: {count} tasks in {took:.2f} s",
                      flush=True)  # fmt: skip
        base = statistics.median(rate for rate, _ in scoring[sizes[0]])
        print("\nscoring, median of rounds:")
        for size in sizes:
            rate = statistics.median(r for r, _ in scoring[size])
            producer = statistics.median(p for _, p in scoring[size])
            print(f"  batch {size}: {rate:,.0f} messages/s (x{rate / base:.1f}), "
                  f"producer {producer:.2f} s per 1,000 messages")  # fmt: skip
        naive, batched = statistics.median(stats[True]), statistics.median(stats[False])
        print(f"statistics: per send {naive:.2f} s, per stream {batched:.2f} s "
              f"(x{naive / batched:.1f} less worker time)")  # fmt: skip
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        if vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


if __name__ == "__main__":
    main()
