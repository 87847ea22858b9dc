"""Each room's viewer count for pages that list rooms: written by the hubs, read in one go."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from conftest import need_service
from realtime import presence
from realtime.redis_client import close_redis, get_sync_redis
from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)

viewer_counts = sync_to_async(presence.viewer_counts)


@pytest.fixture(autouse=True)
def no_counts_from_other_tests():
    """Without Redis the counts live in this process (with Redis, each test has its prefix)."""
    presence._local_counts.clear()


async def test_a_room_nobody_watches_counts_zero():
    assert await viewer_counts([101, 102]) == {101: 0, 102: 0}
    assert await viewer_counts([]) == {}


async def test_counts_of_many_rooms_are_read_together():
    await presence.write_viewer_count(101, 7)
    await presence.write_viewer_count(103, 2)
    assert await viewer_counts([101, 102, 103]) == {101: 7, 102: 0, 103: 2}
    await close_redis()


async def test_a_count_without_heartbeat_drops_to_zero(settings):
    settings.CHAT_PRESENCE_TTL = 1  # every process that wrote it died
    await presence.write_viewer_count(101, 7)
    await asyncio.sleep(1.3)  # time passing is the point: the count outlives no TTL
    assert await viewer_counts([101]) == {101: 0}
    await close_redis()


async def test_the_hub_counts_viewers_and_the_last_leave_drops_the_count(
    open_socket, alice_room, bob
):
    await database_sync_to_async(rooms.start_stream)(alice_room)
    first = await open_socket(alice_room, bob)
    second = await open_socket(alice_room)
    await first.expect("presence.count", viewers=2)
    assert await viewer_counts([alice_room.pk]) == {alice_room.pk: 2}
    await second.close()
    await first.expect("presence.count", viewers=1)
    assert await viewer_counts([alice_room.pk]) == {alice_room.pk: 1}
    await first.close()
    # at once, not when the count expires
    assert await viewer_counts([alice_room.pk]) == {alice_room.pk: 0}


async def test_a_process_leaving_the_room_leaves_the_others_viewers():
    await presence.write_snapshot(101, "process-a", presence.Snapshot(anonymous=2))
    await presence.write_snapshot(101, "process-b", presence.Snapshot(anonymous=1))
    await presence.write_viewer_count(101, 3)
    await presence.remove_snapshot(101, "process-a")
    assert await viewer_counts([101]) == {101: 1}
    await presence.remove_snapshot(101, "process-b")
    assert await viewer_counts([101]) == {101: 0}
    await close_redis()


async def test_the_shared_count_expires_in_redis_like_the_snapshots():
    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL), "other web processes read it")
    await presence.write_viewer_count(101, 5)
    values = await sync_to_async(get_sync_redis().mget)([presence._viewers_key(101)])
    assert values == [b"5"]
    ttl = await sync_to_async(get_sync_redis().ttl)(presence._viewers_key(101))
    assert 0 < ttl <= settings.CHAT_PRESENCE_TTL
    await close_redis()
