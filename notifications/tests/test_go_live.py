"""A followed room going live: who is told, once, and what a failure cannot break."""

import pytest

from accounts import services as accounts
from conftest import PASSWORD
from notifications import services
from notifications.models import Notification
from rooms import services as rooms
from rooms.models import Follow, Room
from rooms.signals import stream_started

pytestmark = pytest.mark.django_db


def notified(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user))


def test_a_follower_is_told_when_the_room_goes_live(erin, alice_room, go_live):
    stream = go_live()
    [notification] = notified(erin)
    assert notification.room == alice_room and notification.stream == stream
    assert notification.read_at is None
    assert services.unread_count(erin.pk) == 1


def test_someone_who_does_not_follow_is_not_told(erin, bob, go_live):
    go_live()
    assert notified(bob) == []


def test_a_follower_who_chose_none_is_not_told(erin, alice_room, go_live):
    rooms.set_follow_notifications(erin.pk, alice_room.pk, Follow.Notify.NONE)
    go_live()
    assert notified(erin) == []


def test_an_unknown_choice_is_refused(erin, alice_room):
    with pytest.raises(rooms.InvalidRoom):
        rooms.set_follow_notifications(erin.pk, alice_room.pk, "some'; DROP TABLE x")
    assert Follow.objects.get(user=erin).notify == Follow.Notify.ALL


def test_a_room_that_flaps_notifies_once(erin, go_live, end_stream, settings):
    settings.NOTIFICATIONS_FLAP_MINUTES = 10
    go_live()
    end_stream()
    go_live()  # OBS reconnecting a minute later
    assert len(notified(erin)) == 1


def test_a_room_back_after_the_flap_window_notifies_again(erin, go_live, end_stream, settings):
    go_live()
    ended = end_stream()
    ended.ended_at = ended.ended_at.replace(year=ended.ended_at.year - 1)
    ended.save(update_fields=["ended_at"])
    go_live()
    assert len(notified(erin)) == 2


def test_a_room_already_live_notifies_nobody_again(erin, go_live):
    go_live()
    go_live()  # the ingest calling start_stream for a room it already holds
    assert len(notified(erin)) == 1


def test_a_repeated_batch_notifies_nobody_twice(erin, go_live):
    """A worker that died after committing a batch: the batch runs again."""
    stream = go_live()
    services.deliver_go_live(stream.pk, [erin.pk])
    assert len(notified(erin)) == 1
    assert services.unread_count(erin.pk) == 1


def test_followers_are_told_in_batches(alice_room, go_live, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    followers = [accounts.sign_up(f"fan{i}", f"fan{i}@example.com", PASSWORD) for i in range(5)]
    for fan in followers:
        rooms.follow_room(fan, alice_room)
    stream = go_live()
    assert [len(batch) for batch in services.plan_go_live(stream.pk)] == [2, 2, 1]
    assert Notification.objects.filter(stream=stream).count() == 5


def test_a_stream_that_ended_before_the_fan_out_ran_notifies_nobody(erin, alice_room):
    stream = rooms.start_stream(alice_room)  # callbacks not run: the task is "queued"
    rooms.end_stream(alice_room)
    assert services.plan_go_live(stream.pk) == []


def test_a_failing_receiver_does_not_stop_the_room_going_live(erin, alice_room, go_live, caplog):
    def broken(**kwargs):
        raise RuntimeError("broker down")

    stream_started.connect(broken, dispatch_uid="test-broken")
    try:
        stream = go_live()
    finally:
        stream_started.disconnect(dispatch_uid="test-broken")
    alice_room.refresh_from_db()
    assert alice_room.status == Room.Status.LIVE and alice_room.current_stream == stream
    assert "stream_started receiver" in caplog.text
    assert len(notified(erin)) == 1  # the other receiver still ran
