"""Delayed scoring by a real Celery worker: a raid vanishes from every open screen.

Needs a broker and a database the worker process can share (MariaDB):
`need_service` skips it on the embedded install and fails it in CI.
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from chat.models import ChatMessage
from conftest import need_service
from livesite.testing import celery_worker
from moderation.models import ReviewItem
from moderation.tests.conftest import tasks_eager

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
