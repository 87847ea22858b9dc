"""The live lock: one publisher per room across ingest processes."""

import asyncio

import pytest

from streaming.ingest.live_lock import LocalLiveLock, RedisLiveLock


@pytest.fixture(params=["local", "redis"])
def make_lock(request, settings):
    if request.param == "local":
        return lambda ttl=5.0: LocalLiveLock(ttl)
    url = request.getfixturevalue("redis_url")
    return lambda ttl=5.0: RedisLiveLock(url, settings.REDIS_KEY_PREFIX, ttl)


async def test_second_holder_is_refused_until_release(make_lock):
    lock = make_lock()
    assert await lock.acquire(1, "first")
    assert not await lock.acquire(1, "second")
    assert await lock.acquire(2, "second")
    await lock.release(1, "first")
    assert await lock.acquire(1, "second")
    await lock.release(1, "second")
    await lock.release(2, "second")
    await lock.close()


async def test_renewal_keeps_the_lock_past_its_expiry(make_lock):
    lock = make_lock(ttl=0.3)
    assert await lock.acquire(7, "mine")
    for _ in range(4):
        await asyncio.sleep(0.15)
        assert await lock.renew(7, "mine")
    assert not await lock.acquire(7, "theirs")
    await lock.release(7, "mine")
    await lock.close()


async def test_an_expired_lock_taken_by_another_is_lost(make_lock):
    lock = make_lock(ttl=0.2)
    assert await lock.acquire(8, "mine")
    await asyncio.sleep(0.35)
    assert await lock.acquire(8, "theirs")
    assert not await lock.renew(8, "mine")
    await lock.release(8, "mine")  # must not delete theirs
    assert not await lock.acquire(8, "third")
    await lock.release(8, "theirs")
    await lock.close()


async def test_a_vanished_lock_is_taken_back_on_renewal(make_lock):
    lock = make_lock(ttl=0.2)
    assert await lock.acquire(9, "mine")
    await asyncio.sleep(0.35)
    assert await lock.renew(9, "mine")
    assert not await lock.acquire(9, "theirs")
    await lock.release(9, "mine")
    await lock.close()
