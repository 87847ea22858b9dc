"""Every Redis client gives up on a Redis that stops answering, instead of hanging.

"A Redis that stops answering" is a listener that accepts connections and never
replies: what a frozen server or a half-open connection looks like to a client.
"""

import asyncio
import socket

import pytest
import redis

from realtime.feed import RoomFeed
from streaming.ingest.live_lock import RedisLiveLock


@pytest.fixture
def silent_redis():
    """A TCP listener that accepts and then says nothing: its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


@pytest.fixture
def short_timeouts(settings):
    settings.REDIS_CLIENT_OPTIONS = {**settings.REDIS_CLIENT_OPTIONS, "socket_timeout": 1}


async def test_the_live_lock_gives_up_on_a_silent_redis(silent_redis, short_timeouts):
    lock = RedisLiveLock(silent_redis, "test", ttl_seconds=15)
    with pytest.raises(redis.TimeoutError):
        # Well past the socket timeout: a lock with none would still be waiting.
        await asyncio.wait_for(lock.renew(1, "token"), timeout=4)
    await lock.close()


async def test_the_chat_feed_gives_up_on_a_silent_redis(silent_redis, short_timeouts, settings):
    settings.REDIS_URL = silent_redis

    async def deliver(room_id, frame):
        pass

    feed = RoomFeed(deliver)
    with pytest.raises(redis.TimeoutError):
        await asyncio.wait_for(feed.subscribe(1), timeout=4)
    await feed.close()


def test_every_redis_client_has_timeouts_and_health_checks(settings):
    from chat import top
    from realtime.redis_client import get_sync_redis

    settings.REDIS_URL = "redis://127.0.0.1:6379/0"  # nothing is sent
    for client in (get_sync_redis(), top._client()):
        options = client.connection_pool.connection_kwargs
        assert options["socket_timeout"] == settings.REDIS_SOCKET_TIMEOUT
        assert options["socket_connect_timeout"] == settings.REDIS_CONNECT_TIMEOUT
        assert options["health_check_interval"] == settings.REDIS_HEALTH_CHECK_INTERVAL
