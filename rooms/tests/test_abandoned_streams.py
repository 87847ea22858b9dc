"""Streams left live by a vanished ingest end; streams whose locks Redis merely lost do not."""

import time

from rooms import services
from rooms.models import Room


def no_locks_held(room_ids):
    return set()


def every_lock_held(room_ids):
    return set(room_ids)


def live_for_a_while(room, settings):
    settings.INGEST_LOCK_TTL = 0.5
    services.start_stream(room)
    time.sleep(0.6)  # older than the lock's lifetime


def status(room) -> str:
    return Room.objects.get(pk=room.pk).status


def test_a_lock_missing_once_ends_nothing(alice_room, settings):
    """Redis restarted and lost every lock: the ingests re-assert them within seconds."""
    live_for_a_while(alice_room, settings)
    assert services.end_abandoned_streams(no_locks_held) == []
    assert status(alice_room) == "live"


def test_a_lock_that_comes_back_before_the_next_sweep_keeps_the_stream(alice_room, settings):
    live_for_a_while(alice_room, settings)
    services.end_abandoned_streams(no_locks_held)
    time.sleep(0.6)
    assert services.end_abandoned_streams(every_lock_held) == []
    time.sleep(0.6)
    assert services.end_abandoned_streams(no_locks_held) == []  # missing again: a new suspicion
    assert status(alice_room) == "live"


def test_a_lock_missing_a_lifetime_apart_ends_the_stream(alice_room, settings):
    live_for_a_while(alice_room, settings)
    assert services.end_abandoned_streams(no_locks_held) == []
    assert services.end_abandoned_streams(no_locks_held) == []  # too soon after the first
    time.sleep(0.6)
    [ended] = services.end_abandoned_streams(no_locks_held)
    assert status(alice_room) == "ended"
    assert ended.incidents.get().kind == "abandoned"
