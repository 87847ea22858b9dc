"""Streams left live by a vanished ingest end; streams whose locks Redis merely lost do not."""

import time

from rooms import services
from rooms.models import Room


def no_locks_held(room_ids):
    return set()


def every_lock_held(room_ids):
    return set(room_ids)


def redis_just_restarted():
    return 0.0


def redis_up_for_an_hour():
    return 3600.0


def live_for_a_while(room, settings):
    settings.INGEST_LOCK_TTL = 0.5
    services.start_stream(room)
    time.sleep(0.6)  # older than the lock's lifetime


def status(room) -> str:
    return Room.objects.get(pk=room.pk).status


def test_a_lock_missing_while_redis_kept_its_locks_ends_the_stream_at_once(alice_room, settings):
    """The ingest was killed: its lock expired unrenewed, and one sweep ends the stream."""
    live_for_a_while(alice_room, settings)
    [ended] = services.end_abandoned_streams(no_locks_held, redis_up_for_an_hour)
    assert status(alice_room) == "ended"
    assert ended.incidents.get().kind == "abandoned"


def test_a_held_lock_keeps_the_stream(alice_room, settings):
    live_for_a_while(alice_room, settings)
    assert services.end_abandoned_streams(every_lock_held, redis_up_for_an_hour) == []
    assert status(alice_room) == "live"


def test_a_lock_missing_once_after_a_redis_restart_ends_nothing(alice_room, settings):
    """Redis restarted and lost every lock: the ingests re-assert them within seconds."""
    live_for_a_while(alice_room, settings)
    assert services.end_abandoned_streams(no_locks_held, redis_just_restarted) == []
    assert status(alice_room) == "live"


def test_a_lock_that_comes_back_before_the_next_sweep_keeps_the_stream(alice_room, settings):
    live_for_a_while(alice_room, settings)
    services.end_abandoned_streams(no_locks_held, redis_just_restarted)
    time.sleep(0.6)  # time passing is the point: a lock lifetime between two sweeps
    assert services.end_abandoned_streams(every_lock_held, redis_just_restarted) == []
    time.sleep(0.6)  # time passing is the point: a lock lifetime between two sweeps
    # Missing again: a new suspicion, not the end of the first.
    assert services.end_abandoned_streams(no_locks_held, redis_just_restarted) == []
    assert status(alice_room) == "live"


def test_a_lock_missing_a_lifetime_apart_after_a_restart_ends_the_stream(alice_room, settings):
    live_for_a_while(alice_room, settings)
    assert services.end_abandoned_streams(no_locks_held, redis_just_restarted) == []
    # Too soon after the first.
    assert services.end_abandoned_streams(no_locks_held, redis_just_restarted) == []
    time.sleep(0.6)  # time passing is the point: a lock lifetime between two sweeps
    [ended] = services.end_abandoned_streams(no_locks_held, redis_just_restarted)
    assert status(alice_room) == "ended"
    assert ended.incidents.get().kind == "abandoned"
