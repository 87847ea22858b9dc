"""Delayed scoring by a real Celery worker: a raid vanishes from every open screen.

Needs a broker and a database the worker process can share (MariaDB):
`need_service` skips it on the embedded install and fails it in CI.
"""

import asyncio
import os
import signal
import socket
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from conftest import need_service
from livesite.celery import app
from moderation import tasks
from moderation.models import AuditEntry, ReviewItem
from moderation.tests.conftest import tasks_eager
from tests.support.servers import celery_worker
from tests.support.waiting import process_gone, wait_until

RAID = "Follow my channel for FREE coins!!! link in bio"


@pytest.fixture
def worker_services():
    need_service("a Celery broker (REDIS_URL)", bool(settings.CELERY_BROKER_URL))
    need_service(
        "MariaDB (DATABASE_URL)",
        connection.vendor == "mysql",
        "a worker process cannot share SQLite's in-memory test database",
    )


@pytest.fixture
async def scoring_worker(worker_services, settings):
    """A worker on a private queue, and this process queueing scoring tasks to it.

    The worker shares this test's Redis key prefix: rooms' event channels are named with it.
    """
    worker = celery_worker({"REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX})
    queue = await asyncio.to_thread(worker.__enter__)
    settings.MODERATION_SCORING_QUEUE = queue
    settings.MODERATION_SCORING_BATCH_SECONDS = 0.2
    settings.MODERATION_SCORING_DELAY_SECONDS = 0.5
    with tasks_eager(False):
        yield queue
    await asyncio.to_thread(worker.__exit__, None, None, None)


@pytest.mark.django_db(transaction=True)
async def test_a_worker_retracts_a_raid_that_two_viewers_see_disappear(
    scoring_worker, open_socket, alice_room, viewers, bob
):
    watchers = [await open_socket(alice_room, bob), await open_socket(alice_room)]
    ids = []
    for n, user in enumerate(viewers):
        raider = await open_socket(alice_room, user)
        await raider.send({"type": "chat.send", "text": RAID, "nonce": f"r{n}"})
        ids.append((await raider.expect("chat.message", nonce=f"r{n}"))["id"])
    for watcher in watchers:
        for message_id in ids:
            await watcher.expect("chat.message", id=message_id)  # on screen first...
    for watcher in watchers:
        for message_id in ids:
            await watcher.expect("chat.delete", id=message_id, timeout=30)  # ...then gone

    visible = ChatMessage.objects.filter(pk__in=[int(i) for i in ids], deleted_at=None)
    assert not await visible.aexists()
    reasons = await database_sync_to_async(list)(ReviewItem.objects.values_list("reason", "source"))
    assert reasons == [("copypasta", "scored")] * 3


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def verdicts(messages) -> dict[str, tuple]:
    """Per message text: (review items, their reasons, audit actions, hidden)."""
    found = {}
    for message in messages:
        items = ReviewItem.objects.filter(message_id=message.pk)
        actions = AuditEntry.objects.filter(message_id=message.pk).values_list("action", flat=True)
        found[message.text] = (
            items.count(),
            [reason["code"] for item in items for reason in item.reasons],
            sorted(actions),
            ChatMessage.objects.get(pk=message.pk).deleted_at is not None,
        )
    return found


@pytest.mark.faults  # listed in docs/reliability.md's fault-injection table
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_verdict_and_repeats_none(
    worker_services, alice_room, viewers
):
    texts = ["review me first", "retract me second", "retract me third", "review me last"]
    messages = [
        ChatMessage.objects.create(
            id=next_message_id(), room=alice_room, user=user, text=text, created_at=timezone.now()
        )
        for user, text in zip([*viewers, viewers[0]], texts, strict=True)
    ]
    worker_env = {
        "DJANGO_SETTINGS_MODULE": "moderation.tests.worker_settings",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
    }
    with tasks_eager(False), celery_worker(worker_env) as first_queue:
        name = f"{first_queue}@{socket.gethostname()}"
        pid = app.control.inspect(destination=[name], timeout=10).stats()[name]["pid"]
        # Hold the third message's row: the worker scores the batch, settles the first two
        # messages and waits there, half-way through its batch.
        with transaction.atomic():
            ChatMessage.objects.select_for_update().get(pk=messages[2].pk)
            tasks.score_messages.apply_async(([m.pk for m in messages],), queue=first_queue)
            wait_for(
                lambda: (
                    verdicts(messages[:2])
                    == {
                        "review me first": (1, ["scripted"], ["flag"], False),
                        "retract me second": (1, ["scripted"], ["auto_retract"], True),
                    }
                ),
                30,
                "the first two messages of the batch",
            )
            os.kill(pid, signal.SIGKILL)  # mid-batch: the task is not acknowledged
            # Gone before the row lock is released, so it cannot finish the batch after all.
            wait_until(lambda: process_gone(pid), 10, "the killed worker process to exit")

        # Another worker takes the dead worker's queue; the broker redelivers the whole batch.
        with celery_worker(worker_env) as second_queue:
            second = f"{second_queue}@{socket.gethostname()}"
            # Broadcasts are pub/sub: one sent before the worker subscribed is lost, so ask again.
            wait_for(
                lambda: app.control.add_consumer(
                    first_queue, destination=[second], reply=True, timeout=2
                ),
                30,
                "the second worker to take the first worker's queue",
            )
            wait_for(lambda: verdicts(messages[3:])[texts[3]][0] == 1, 60, "the redelivered batch")

    assert verdicts(messages) == {
        "review me first": (1, ["scripted"], ["flag"], False),
        "retract me second": (1, ["scripted"], ["auto_retract"], True),
        "retract me third": (1, ["scripted"], ["auto_retract"], True),
        "review me last": (1, ["scripted"], ["flag"], False),
    }
