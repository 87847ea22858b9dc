"""The chat survives a Redis restart: the feed re-subscribes and viewers get what they missed.

A private redis-server of the test's own is killed and started again; the shared one is
never touched.
"""

import asyncio
import shutil

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import events
from chat.ids import next_message_id
from chat.models import ChatMessage
from conftest import need_service
from realtime.publish import apublish
from realtime.redis_client import close_redis
from tests.support.servers import private_redis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def restartable_redis(settings, tmp_path):
    need_service("redis-server", bool(shutil.which("redis-server")), "the restart test runs one")
    with private_redis(tmp_path) as server:
        settings.REDIS_URL = server.url
        settings.REDIS_CLIENT_OPTIONS = {
            **settings.REDIS_CLIENT_OPTIONS,
            "health_check_interval": 1,
        }
        yield server


async def publish_until_heard(room, viewer, text: str, timeout: float = 15) -> dict:
    """Publish (retrying while Redis is coming back) until the viewer hears it."""
    event = events.chat_message(next_message_id(), room.slug, None, text, 0, None)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await apublish(room.pk, event)
            return await viewer.expect("chat.message", timeout=1, text=text)
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await close_redis()  # a fresh client, as a process's next call would get
            await asyncio.sleep(0.2)


def say(room, user, text):
    return ChatMessage.objects.create(
        id=next_message_id(), room=room, user=user, text=text, created_at=timezone.now()
    )


async def test_the_chat_feed_comes_back_after_a_redis_restart(
    restartable_redis, open_socket, alice_room, bob
):
    viewer = await open_socket(alice_room)
    await viewer.expect("hello")
    assert (await viewer.expect("chat.history"))["messages"] == []
    await publish_until_heard(alice_room, viewer, "before")

    restartable_redis.restart()
    # Stored while the feed was down: its PUBLISH went nowhere (another process sent it).
    missed = await database_sync_to_async(say)(alice_room, bob, "while Redis was away")

    history = await viewer.expect("chat.history", timeout=15)
    assert [m["id"] for m in history["messages"]] == [str(missed.pk)]
    assert history["messages"][0]["user"]["name"] == "bob"
    await publish_until_heard(alice_room, viewer, "after")
