"""kill -9 of `manage.py ingest` under an ffmpeg publisher: its room ends on its own.

A killed ingest cannot end its streams, so the room stays live until the periodic
`end_abandoned_streams` sees that no ingest holds its live lock. The test plays the
part of celery beat, calling the task every `SWEEP` seconds (production: 60 s), and
measures from the kill to the room's end.
"""

import os
import signal
import time

import pytest

from rooms import services
from rooms.models import Room, StreamIncident
from streaming.tasks import end_abandoned_streams
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.services,
    pytest.mark.media,
    pytest.mark.django_db(transaction=True),
]

LOCK_TTL = 3  # seconds, the smallest INGEST_LOCK_TTL allows
SWEEP = 2  # seconds between runs of end_abandoned_streams
# The lock expires within its lifetime of the kill and the next sweep ends the room
# (Redis here has kept its locks longer than a lifetime: no restart to allow for).
ENDED_WITHIN = LOCK_TTL + SWEEP + 1


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


def test_rooms_of_a_killed_ingest_end_within_the_lock_lifetime_and_a_sweep(
    shared_services, tmp_path, settings, alice, alice_room
):
    settings.INGEST_LOCK_TTL = LOCK_TTL
    key = services.rotate_stream_key(alice_room, alice)
    with ingest_process(tmp_path, {"INGEST_LOCK_TTL": str(LOCK_TTL)}) as ingest:
        publisher = ffmpeg_publish(ingest.url(key), seconds=60)
        try:
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
            time.sleep(LOCK_TTL + 1)  # older than a lock lifetime: only its lock keeps it live
            assert end_abandoned_streams() == 0
            os.kill(ingest.process.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            ingest.process.wait(timeout=10)
            while room_status(alice_room) == "live":
                assert time.monotonic() - killed_at < ENDED_WITHIN + SWEEP, "still live"
                time.sleep(SWEEP)
                end_abandoned_streams()
            took = time.monotonic() - killed_at
        finally:
            publisher.kill()
            publisher.wait(timeout=10)
    print(f"room ended {took:.1f} s after the ingest was killed")
    assert took <= ENDED_WITHIN
    assert room_status(alice_room) == "ended"
    incident = StreamIncident.objects.get(stream__room=alice_room)
    assert incident.kind == StreamIncident.Kind.ABANDONED
