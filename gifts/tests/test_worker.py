"""Statistics computed by a real Celery worker, and a worker killed half-way through.

These need a broker and a database the worker process can share (MariaDB):
`need_service` skips them on the embedded install and fails them in CI.
"""

import os
import signal
import socket
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from accounts import services as accounts
from conftest import need_service
from gifts import tasks
from gifts.models import DailyGiftStats, GiftSend, StreamGiftStats
from gifts.services import coins, sending
from gifts.tests.conftest import new_key
from livesite.celery import app
from rooms import services as rooms
from tests.support.servers import celery_worker
from tests.support.waiting import process_gone, wait_until

WORKER_ENV = {"DJANGO_SETTINGS_MODULE": "gifts.tests.worker_settings"}


@pytest.fixture
def worker_services():
    need_service("a Celery broker (REDIS_URL)", bool(settings.CELERY_BROKER_URL))
    need_service(
        "MariaDB (DATABASE_URL)",
        connection.vendor == "mysql",
        "a worker process cannot share SQLite's in-memory test database",
    )


def truth_by_stream() -> dict[int, tuple[int, int, int]]:
    rows = GiftSend.objects.values("stream_id").annotate(
        sends=Count("pk"), coins=Sum("coins"), gifters=Count("sender", distinct=True)
    )
    return {row["stream_id"]: (row["sends"], int(row["coins"]), row["gifters"]) for row in rows}


def stats_by_stream() -> dict[int, tuple[int, int, int]]:
    return {
        row.stream_id: (row.sends, row.coins, row.unique_gifters)
        for row in StreamGiftStats.objects.all()
    }


def worker_pid(queue: str) -> int:
    name = f"{queue}@{socket.gethostname()}"
    replies = app.control.inspect(destination=[name], timeout=10).stats() or {}
    return replies[name]["pid"]


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def gifted_streams(count: int, bob) -> list[int]:
    coins.grant_coins(bob, 100_000, "test")
    streams = []
    for n in range(count):
        owner = accounts.enable_broadcasting(
            accounts.sign_up(f"star{n}", f"star{n}@example.com", "correct horse 123")
        )
        room = rooms.create_room(owner, f"Star {n}")
        streams.append(rooms.start_stream(room).pk)
        room.refresh_from_db()
        for quantity in (1, 10, 99)[: n + 1]:
            sending.send_gift(bob, room, "rose", quantity, new_key())
    return streams


@pytest.mark.django_db(transaction=True)
def test_a_worker_computes_a_streams_statistics(worker_services, rich_bob, live_room, catalog):
    sending.send_gift(rich_bob, live_room, "crown", 1, new_key())
    sending.send_gift(rich_bob, live_room, "rose", 10, new_key())
    with celery_worker(WORKER_ENV) as queue:
        stream = live_room.current_stream_id
        tasks.refresh_stream_stats.apply_async((stream, live_room.owner_id), queue=queue).get(30)
        result = tasks.refresh_recent_stats.apply_async(queue=queue).get(timeout=30)
    assert result == {"streams": 1, "days": 1}
    assert stats_by_stream() == {stream: (2, 549, 1)}
    day = DailyGiftStats.objects.get()
    assert (day.sends, day.coins, day.top_gift.slug) == (2, 549, "crown")


@pytest.mark.faults  # listed in docs/reliability.md's fault-injection table
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_aggregation_loses_nothing_and_counts_nothing_twice(
    worker_services, bob, catalog
):
    streams = gifted_streams(3, bob)
    tasks.refresh_recent_stats.apply()  # every row exists...
    for stream in streams:  # ...and then goes stale: one more gift in every stream
        room = GiftSend.objects.filter(stream_id=stream).first().room
        sending.send_gift(bob, room, "heart", 99, new_key())
    truth = truth_by_stream()
    assert all(stats_by_stream()[stream] != truth[stream] for stream in streams)

    with celery_worker(WORKER_ENV) as first_queue:
        pid = worker_pid(first_queue)
        # Hold the third stream's row: the worker refreshes two streams, then waits there.
        with transaction.atomic():
            StreamGiftStats.objects.select_for_update().get(stream_id=streams[2])
            tasks.refresh_recent_stats.apply_async(queue=first_queue)
            wait_for(
                lambda: all(stats_by_stream()[s] == truth[s] for s in streams[:2]),
                30,
                "the first two streams to be refreshed",
            )
            os.kill(pid, signal.SIGKILL)  # mid-aggregation, task not acknowledged
            # Gone before the row lock is released, so it cannot finish the task after all.
            wait_until(lambda: process_gone(pid), 10, "the killed worker process to exit")
        assert stats_by_stream()[streams[2]] != truth[streams[2]]

        # Another worker takes the dead worker's queue; the broker redelivers the task.
        with celery_worker(WORKER_ENV) as second_queue:
            second = f"{second_queue}@{socket.gethostname()}"
            # Broadcasts are pub/sub: one sent before the worker subscribed is lost, so ask again.
            wait_for(
                lambda: app.control.add_consumer(
                    first_queue, destination=[second], reply=True, timeout=2
                ),
                30,
                "the second worker to take the first worker's queue",
            )
            wait_for(lambda: stats_by_stream() == truth, 60, "the redelivered task")

    assert StreamGiftStats.objects.count() == len(streams)
    days = DailyGiftStats.objects.all()
    assert sorted((row.sends, row.coins) for row in days) == sorted(
        (sends, coins) for sends, coins, _ in truth.values()
    )
