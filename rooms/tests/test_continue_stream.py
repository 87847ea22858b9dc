"""Another ingest continues a stream after the one publishing it died (docs/scaling.md)."""

import pytest

from rooms import services
from rooms.models import Room, StreamIncident

pytestmark = pytest.mark.django_db


def test_the_open_stream_continues_without_a_new_start(alice_room):
    stream = services.start_stream(alice_room)
    continued = services.continue_stream(alice_room, stream.pk)
    assert continued.pk == stream.pk
    room = Room.objects.get(pk=alice_room.pk)
    assert (room.status, room.current_stream_id) == ("live", stream.pk)
    assert not StreamIncident.objects.exists()


def test_a_stream_that_ended_meanwhile_is_not_revived(alice_room):
    stream = services.start_stream(alice_room)
    services.end_stream(alice_room, stream.pk)
    continued = services.continue_stream(alice_room, stream.pk)
    assert continued.pk != stream.pk
    assert Room.objects.get(pk=alice_room.pk).current_stream_id == continued.pk


def test_another_open_stream_is_ended_as_abandoned(alice_room):
    stale = services.start_stream(alice_room)
    continued = services.continue_stream(alice_room, stale.pk + 1000)
    assert continued.pk != stale.pk
    incident = StreamIncident.objects.get(stream=stale)
    assert incident.kind == StreamIncident.Kind.ABANDONED
