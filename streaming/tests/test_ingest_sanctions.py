"""Sanctions reach the ingest: ffmpeg as OBS against a real `manage.py ingest`.

A deactivated owner, an owner whose broadcasting staff took away, a site-banned owner and
a room staff stopped are refused at publish time, and a live publisher is dropped within
the ingest's check interval (INGEST_KEY_CHECK_MS, 200 ms in these tests) once one of them
becomes true.
"""

import time

import pytest

from accounts import services as accounts
from moderation import services as moderation
from rooms import services
from rooms.models import Room, StreamIncident
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, wait_for

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]


def deactivate(owner, staff, room):
    owner.is_active = False
    owner.save(update_fields=["is_active"])


def revoke_broadcasting(owner, staff, room):
    accounts.revoke_broadcasting(staff, owner, "copyright strikes")


def ban_from_site(owner, staff, room):
    moderation.ban_from_site(staff, owner, "spam")


def stop_by_staff(owner, staff, room):
    services.stop_room(room, staff, "reported stream")


SANCTIONS = {
    "owner_inactive": deactivate,
    "broadcasting_revoked": revoke_broadcasting,
    "site_banned": ban_from_site,
    "staff_stopped": stop_by_staff,
}


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


@pytest.fixture
def alice_key(alice, alice_room):
    return services.rotate_stream_key(alice_room, alice)


@pytest.mark.parametrize("code", SANCTIONS)
def test_a_sanctioned_owner_cannot_go_live(tmp_path, code, alice, dave, alice_room, alice_key):
    SANCTIONS[code](alice, dave, alice_room)
    with ingest_process(tmp_path) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=3)
        assert publisher.wait(timeout=20) != 0
        assert room_status(alice_room) == "offline"
        log = ingest.log_text()
        assert f"refused: {code}" in log and alice_key not in log


@pytest.mark.parametrize("code", SANCTIONS)
def test_a_live_publisher_is_dropped_once_its_owner_is_sanctioned(
    tmp_path, code, alice, dave, alice_room, alice_key
):
    with ingest_process(tmp_path, {"INGEST_RECONNECT_GRACE": "30"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        sanctioned = time.monotonic()
        SANCTIONS[code](alice, dave, alice_room)
        assert publisher.wait(timeout=10) != 0
        # Dropped within a few check intervals (plus ffmpeg noticing), no 30 s grace.
        assert time.monotonic() - sanctioned < 5
        wait_for(lambda: room_status(alice_room) == "ended", timeout=10)
        assert code in ingest.log_text()
        incident = StreamIncident.objects.get(kind=StreamIncident.Kind.PUBLISHER_DROPPED)
        assert incident.detail == services.may_publish(alice_room).reason
        # Nor can it come straight back on the same key.
        retry = ffmpeg_publish(ingest.url(alice_key), seconds=3)
        assert retry.wait(timeout=20) != 0
        assert room_status(alice_room) == "ended"
