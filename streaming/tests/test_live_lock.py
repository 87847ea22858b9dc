"""The live lock: one publisher per room across ingest processes."""

import asyncio

import pytest

from streaming.ingest.live_lock import LocalLiveLock, RedisLiveLock, live_lock_key


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
        await asyncio.sleep(0.15)  # half a lifetime passes between renewals
        assert await lock.renew(7, "mine")
    assert not await lock.acquire(7, "theirs")
    await lock.release(7, "mine")
    await lock.close()


async def test_an_expired_lock_taken_by_another_is_lost(make_lock):
    lock = make_lock(ttl=0.2)
    assert await lock.acquire(8, "mine")
    await asyncio.sleep(0.35)  # time passing is the point: the lock's lifetime runs out
    assert await lock.acquire(8, "theirs")
    assert not await lock.renew(8, "mine")
    await lock.release(8, "mine")  # must not delete theirs
    assert not await lock.acquire(8, "third")
    await lock.release(8, "theirs")
    await lock.close()


async def test_a_vanished_lock_is_taken_back_on_renewal(make_lock):
    lock = make_lock(ttl=0.2)
    assert await lock.acquire(9, "mine")
    await asyncio.sleep(0.35)  # time passing is the point: the lock's lifetime runs out
    assert await lock.renew(9, "mine")
    assert not await lock.acquire(9, "theirs")
    await lock.release(9, "mine")
    await lock.close()


async def test_each_acquisition_takes_a_larger_fence_and_renewal_keeps_it(make_lock):
    lock = make_lock(ttl=0.2)
    first = await lock.acquire(10, "mine")
    assert first >= 1
    assert await lock.renew(10, "mine") == first
    await asyncio.sleep(0.35)  # time passing is the point: the lock's lifetime runs out
    second = await lock.acquire(10, "theirs")
    assert second > first
    assert await lock.renew(10, "mine") == 0
    await lock.release(10, "theirs")
    await lock.close()


async def test_a_lock_lost_in_a_failover_goes_to_the_newer_holder(settings, redis_url):
    """The promoted replica never got our lock: another ingest takes the room with a larger
    fence, and our next renewal answers 0 (the ingest then drops its publisher)."""
    import redis.asyncio as redis

    lock = RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, 5.0)
    mine = await lock.acquire(11, "mine")
    client = redis.Redis.from_url(redis_url)
    await client.delete(live_lock_key(11))  # lost with the master
    theirs = await lock.acquire(11, "theirs")
    assert theirs > mine
    assert await lock.renew(11, "mine") == 0
    await lock.release(11, "mine")  # must not delete theirs
    assert await lock.renew(11, "theirs") == theirs
    await lock.release(11, "theirs")
    await client.aclose()
    await lock.close()


@pytest.mark.parametrize("value", ["no-colon", ":mine", "x:mine", "", "12:"])
async def test_a_malformed_lock_value_is_nobody_s_lock(value, settings, redis_url):
    import redis.asyncio as redis

    lock = RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, 5.0)
    client = redis.Redis.from_url(redis_url)
    key = live_lock_key(12)
    await client.set(key, value, px=5000)
    assert await lock.acquire(12, "mine") == 0
    assert await lock.renew(12, "mine") == 0
    await lock.release(12, "mine")
    assert await client.get(key) == value.encode()
    await client.delete(key)
    await client.aclose()
    await lock.close()


def test_through_sentinel_the_lock_store_vouches_for_no_kept_locks(settings, redis_url):
    """A promoted replica's uptime predates its promotion: a missing lock must be missing
    at two sweeps a lifetime apart before its stream ends (rooms.end_abandoned_streams)."""
    from streaming.ingest.live_lock import live_locks_kept_for

    assert live_locks_kept_for() > 0  # a plain Redis: its uptime
    settings.REDIS_SENTINELS = [("127.0.0.1", 26379)]
    assert live_locks_kept_for() == 0


async def test_an_ingest_keeps_its_live_locks_while_its_event_loop_is_busy(
    redis_url, settings, tmp_path
):
    """A burst of real-time viewers joining (ICE, DTLS, certificates on the ingest's
    loop) once held the loop past the lock's lifetime: another ingest could take the
    room. The locks are renewed on a thread of their own."""
    import time

    from streaming.ingest.service import Ingest
    from streaming.ingest.settings import IngestSettings

    ttl = 0.6
    ingest = Ingest(
        IngestSettings(hls_root=tmp_path, lock_ttl=ttl),
        RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, ttl),
    )
    rival = RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, ttl)  # another ingest
    await ingest.start("127.0.0.1", 0)
    try:
        assert await ingest.lock.acquire(4242, "ours")
        time.sleep(ttl * 4)  # the loop runs nothing else for four lifetimes of the lock
        assert not await rival.acquire(4242, "theirs")
    finally:
        await ingest.lock.release(4242, "ours")
        await ingest.close()
        await rival.close()


KEEPER_TTL = 0.4


@pytest.fixture
async def keeper_and_rival(redis_url, settings):
    """A started lock keeper that counts its loop wedged after one lock lifetime, and
    another ingest's lock on the same Redis; room 4343 is released by both afterwards."""
    from streaming.ingest.lock_keeper import LockKeeper

    keeper = LockKeeper(
        RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, KEEPER_TTL),
        renew_every=KEEPER_TTL / 3,
        on_renewed=lambda *outcome: None,
        wedged_after=KEEPER_TTL,
    )
    keeper.start()
    rival = RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, KEEPER_TTL)
    yield keeper, rival
    await rival.release(4343, "theirs")
    await keeper.release(4343, "ours")
    await keeper.close()
    await rival.close()


async def test_a_wedged_event_loop_lets_its_rooms_go(keeper_and_rival):
    import time

    keeper, rival = keeper_and_rival
    assert await keeper.acquire(4343, "ours")
    time.sleep(KEEPER_TTL * 4)  # the main loop is wedged: it runs nothing all that time
    assert await rival.acquire(4343, "theirs")


@pytest.mark.django_db(transaction=True)
async def test_a_publish_that_fails_to_go_live_gives_the_room_s_lock_back(
    redis_url, settings, tmp_path, alice_room, monkeypatch
):
    """A database hiccup as the stream starts: the room must not stay locked (the keeper
    renewing it) with nothing live, refusing every later publish on every ingest."""
    from django.db import OperationalError

    from rooms import services as rooms
    from streaming.ingest.service import Ingest
    from streaming.ingest.settings import IngestSettings

    def database_hiccup(*args, **kwargs):
        raise OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(rooms, "start_stream", database_hiccup)
    ttl = 0.6
    ingest = Ingest(
        IngestSettings(hls_root=tmp_path, lock_ttl=ttl),
        RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, ttl),
    )
    rival = RedisLiveLock(redis_url, settings.REDIS_KEY_PREFIX, ttl)  # another ingest
    await ingest.start("127.0.0.1", 0)
    try:
        with pytest.raises(OperationalError):
            await ingest.accept_publish(alice_room, lambda live: object())
        await asyncio.sleep(ttl * 2)  # two lifetimes: a lock still kept would be renewed
        assert await rival.acquire(alice_room.pk, "theirs")
        assert alice_room.pk not in ingest.live
    finally:
        await rival.release(alice_room.pk, "theirs")
        await ingest.close()
        await rival.close()


async def test_a_running_loop_keeps_its_rooms_while_the_database_stalls(keeper_and_rival):
    """The watch's poll may wait on a stalled database for longer than `wedged_after`;
    the event loop still runs, and the rooms stay this ingest's."""
    keeper, rival = keeper_and_rival
    assert await keeper.acquire(4343, "ours")
    await asyncio.sleep(KEEPER_TTL * 4)  # nothing else runs on the loop: no watch, no poll
    assert not await rival.acquire(4343, "theirs")
