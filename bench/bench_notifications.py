"""Go-live fan-out to 100,000 followers on MariaDB, Redis and real Celery workers.

Measures, in one run:

- start: how long `rooms.services.start_stream` takes (what the ingest waits for)
  for a room with 100,000 notified followers, against the same call for a room
  with none, side by side (the baseline): the fan-out must not slow it;
- fan-out: from the stream's commit to the last follower's notification row, the
  rows written a second and the INSERT statements a second, with every follower's
  `notifications.unread` frame sent through the Redis channel layer to the 5% of
  followers counted as having a page open, and 1% of followers sent an email
  (Django's dummy backend: no SMTP server in the loop);
- baseline for the fan-out: the same 100,000 rows written by this process alone in
  batches of the same size with one `bulk_create` each and nothing else (no
  unread counts, no frames, no Celery), so the ratio is the pipeline's overhead.

Workers: `--workers` prefork processes of one `celery worker` on a queue of this
run's own. Uses its own database (`livesite_notifications_bench`, dropped and
recreated) and the Redis database of `--redis-url`. About two minutes in all.

    .venv/bin/python bench/bench_notifications.py --followers 100000 \\
        --redis-url redis://127.0.0.1:6379/8
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "livesite_notifications_bench"
USER_BATCH = 5000
NO_SIGN_IN = "!"  # Django's unusable password


def setup_django(redis_url: str) -> None:
    defaults = {
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DATABASE}",
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "livesite.settings",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",  # production settings: DEBUG records every query
        "SECRET_KEY": "bench-only-not-secret",
        "EMAIL_URL": "dummy://",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)  # a script's defaults; the app reads settings only
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_worker(queue: str, concurrency: int) -> None:
    """This script as a Celery worker whose tasks (and the tasks they queue) use `queue`."""
    from livesite.celery import app

    app.conf.task_default_queue = queue
    app.worker_main(
        [
            "worker",
            "--queues",
            queue,
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"{queue}@%h",
        ]
    )


def recreate_database() -> None:
    import MySQLdb

    connection = MySQLdb.connect(host="127.0.0.1", user="root")
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    cursor.execute(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def populate(followers: int):
    """A broadcaster with two rooms: one with `followers` followers (1% want emails), one
    with none."""
    from django.core.management import call_command

    from accounts.models import User
    from notifications.models import EmailChoice
    from rooms import services as rooms
    from rooms.models import Follow

    call_command("migrate", verbosity=0)
    owner = User.objects.create(username="star", is_broadcaster=True)
    busy = rooms.create_room(owner, "Busy room")
    quiet = rooms.create_room(owner, "Quiet room")
    for start in range(0, followers, USER_BATCH):
        count = min(USER_BATCH, followers - start)
        users = User.objects.bulk_create(
            [
                User(
                    username=f"fan{start + i}",
                    email=f"fan{start + i}@example.com",
                    password=NO_SIGN_IN,
                )
                for i in range(count)
            ]
        )
        Follow.objects.bulk_create([Follow(user=user, room=busy) for user in users])
        EmailChoice.objects.bulk_create(
            [EmailChoice(user=user, go_live=True) for user in users[::100]]
        )
    return busy, quiet


def mark_online(every: int) -> int:
    """Count every `every`-th follower as having a page open, as their sockets would."""
    from realtime.redis_client import get_sync_redis
    from rooms.directory_feed import _online_key
    from rooms.models import Follow

    user_ids = Follow.objects.values_list("user_id", flat=True)[::every]
    if user_ids:
        get_sync_redis().hset(_online_key(), mapping={str(uid): 1 for uid in user_ids})
    return len(user_ids)


def timed_start(room) -> float:
    from django.db import connection

    from rooms import services as rooms

    began = time.perf_counter()
    rooms.start_stream(room)  # its own transaction; the signal fires on its commit
    took = time.perf_counter() - began
    connection.close()
    return took


def wait_for_fan_out(stream, followers: int, timeout: float) -> tuple[float, float]:
    """Seconds from the stream's start to its last notification row, and from its first
    row to its last (the writing window)."""
    from django.db.models import Max, Min

    from notifications.models import Notification

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Notification.objects.filter(stream=stream).count() >= followers:
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"the fan-out did not finish within {timeout} s")
    span = Notification.objects.filter(stream=stream).aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    to_last = (span["last"] - stream.started_at).total_seconds()
    return to_last, (span["last"] - span["first"]).total_seconds()


def baseline_inserts(stream, followers: int, batch: int) -> float:
    """Rows a second of plain bulk_create batches for the same followers and stream."""
    from notifications.models import Notification
    from rooms.models import Follow

    user_ids = list(
        Follow.objects.filter(room=stream.room)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    began = time.perf_counter()
    for start in range(0, len(user_ids), batch):
        Notification.objects.bulk_create(
            [
                Notification(user_id=uid, room_id=stream.room_id, stream=stream, kind="baseline")
                for uid in user_ids[start : start + batch]
            ]
        )
    return followers / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--starts", type=int, default=5, help="timed starts of the quiet room")
    parser.add_argument(
        "--online-every", type=int, default=20, help="every Nth follower has a page open"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--worker-queue", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", args.redis_url)
    if args.worker_queue:
        setup_django(args.redis_url)
        run_worker(args.worker_queue, args.workers)
        return

    recreate_database()
    setup_django(args.redis_url)
    from django.conf import settings

    from livesite.celery import app
    from rooms import services as rooms

    print(f"populating {args.followers} followers …", flush=True)
    busy, quiet = populate(args.followers)
    online = mark_online(args.online_every)
    queue = f"bench-notifications-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    worker = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--worker-queue",
            queue,
            "--workers",
            str(args.workers),
            "--redis-url",
            args.redis_url,
        ],
        cwd=ROOT,
    )
    try:
        time.sleep(8)  # the worker's start-up
        app.send_task("livesite.ping").get(timeout=60)  # the broker connection, warmed
        quiet_starts = []
        for _ in range(args.starts):
            quiet_starts.append(timed_start(quiet))
            rooms.end_stream(quiet)
        busy_start = timed_start(busy)
        began_waiting = time.perf_counter()
        stream = busy.streams.order_by("pk").first()
        to_last, writing = wait_for_fan_out(stream, args.followers, timeout=600)
        waited = time.perf_counter() - began_waiting
        # Restarts within the flap window: the same start path (a follower check and a
        # queued task), and a fan-out that stops at the flap check.
        busy_starts = [busy_start]
        for _ in range(args.starts - 1):
            rooms.end_stream(busy)
            busy_starts.append(timed_start(busy))
    finally:
        worker.terminate()
        worker.wait(30)
    batch = settings.NOTIFICATIONS_BATCH_SIZE
    base_rate = baseline_inserts(stream, args.followers, batch)
    rate = args.followers / writing if writing else float("inf")
    quiet_median = statistics.median(quiet_starts)
    busy_median = statistics.median(busy_starts)
    print(
        f"followers: {args.followers} ({online} with a page open), batch size {batch}, "
        f"worker processes {args.workers}"
    )
    print(f"start_stream, no followers (median of {args.starts}): {quiet_median * 1000:.1f} ms")
    print(
        f"start_stream, {args.followers} followers (median of {args.starts}): "
        f"{busy_median * 1000:.1f} ms ({busy_median / quiet_median:.2f}x the baseline; "
        f"first {busy_start * 1000:.1f} ms)"
    )
    print(f"stream start to last notification: {to_last:.1f} s (seen after {waited:.1f} s)")
    print(
        f"notification rows written: {rate:,.0f}/s over {writing:.1f} s; "
        f"INSERT statements: {rate / batch:,.1f}/s"
    )
    print(
        f"baseline, bulk_create alone in one process: {base_rate:,.0f} rows/s "
        f"(fan-out = {rate / base_rate:.2f}x the baseline)"
    )


if __name__ == "__main__":
    main()
