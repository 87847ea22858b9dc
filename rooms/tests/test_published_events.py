"""What a room's open pages are told when it goes live, ends, or loses a moderator."""

from realtime.control import CLOSE_RIGHTS_CHANGED, CONTROL_DISCONNECT
from rooms import services


def test_going_live_and_ending_tell_the_room_after_each_commit(
    alice_room, published_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        stream = services.start_stream(alice_room)
        assert published_events == []  # nobody hears of a stream that might roll back
    with django_capture_on_commit_callbacks(execute=True):
        services.end_stream(alice_room, stream.pk)

    assert published_events.to_room(alice_room.pk) == [
        {"type": "room.status", "room": alice_room.slug, "status": "live", "stream": stream.pk},
        {"type": "room.status", "room": alice_room.slug, "status": "ended", "stream": None},
    ]


def test_a_removed_moderator_reconnects_with_a_viewers_rights(
    alice, alice_room, carol, published_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_moderator(alice_room, alice, carol)

    assert published_events.to_room(alice_room.pk) == [
        {"type": CONTROL_DISCONNECT, "user_id": carol.pk, "code": CLOSE_RIGHTS_CHANGED}
    ]
