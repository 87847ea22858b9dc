"""Held messages: dropped when nobody reviews them in time, and the sender hears the
outcome either way."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services
from moderation.models import AuditEntry, ReviewItem
from rooms import directory_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(monkeypatch):
    """`moderation.held` frames sent to users' directory sockets: (user id, frame)."""
    sent = []

    def send_to_users(frames):
        sent.extend(item for item in frames.items() if item[1]["type"] == "moderation.held")

    monkeypatch.setattr(directory_feed, "send_to_users", send_to_users)
    return sent


def held(room, user, text="you idiot", minutes_ago: int = 0) -> ReviewItem:
    message = ChatMessage.objects.create(
        id=next_message_id(), room=room, user=user, text=text,
        created_at=timezone.now(), deleted_at=timezone.now(),
    )  # fmt: skip
    reasons = [{"code": "blocked_term", "action": "hold", "message": "held", "spans": []}]
    item = services.hold_message(message.pk, room.pk, user.pk, reasons)
    ReviewItem.objects.filter(pk=item.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    item.refresh_from_db()
    return item


def test_a_held_message_nobody_reviews_in_time_is_dropped_and_counted(
    alice_room, bob, settings, told, django_capture_on_commit_callbacks
):
    settings.MODERATION_HELD_REVIEW_SECONDS = 300
    stale = held(alice_room, bob, minutes_ago=6)
    fresh = held(alice_room, bob, "still waiting", minutes_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_held_messages() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == ReviewItem.State.RESOLVED and stale.resolution == "expired"
    assert fresh.state == ReviewItem.State.OPEN
    assert ChatMessage.objects.get(pk=stale.message_id).deleted_at is not None  # stays hidden
    assert AuditEntry.objects.filter(action="review_expired", review_item=stale).count() == 1
    assert told == [
        (bob.pk, {"type": "moderation.held", "room": alice_room.slug,
                  "message_id": str(stale.message_id), "outcome": "expired"}),
    ]  # fmt: skip


def test_expiry_can_be_turned_off(alice_room, bob, settings):
    settings.MODERATION_HELD_REVIEW_SECONDS = 0
    held(alice_room, bob, minutes_ago=60 * 24)
    assert services.expire_held_messages() == 0


def test_a_decided_item_is_not_expired_again(alice_room, alice, bob, settings):
    settings.MODERATION_HELD_REVIEW_SECONDS = 60
    item = held(alice_room, bob, minutes_ago=5)
    services.approve(alice, item)
    assert services.expire_held_messages() == 0
    assert ReviewItem.objects.get(pk=item.pk).resolution == "approved"


@pytest.mark.parametrize(
    ("decide", "outcome"),
    [
        (lambda by, item: services.approve(by, item), "approved"),
        (lambda by, item: services.delete_reviewed_message(by, item), "removed"),
        (lambda by, item: services.time_out_author(by, item, 10), "removed"),
        (lambda by, item: services.ban_author_from_room(by, item), "removed"),
    ],
)
def test_the_sender_hears_what_a_moderator_decided(
    alice_room, carol, bob, told, django_capture_on_commit_callbacks, decide, outcome
):
    item = held(alice_room, bob)
    with django_capture_on_commit_callbacks(execute=True):
        decide(carol, item)
    assert [(user, frame["outcome"]) for user, frame in told] == [(bob.pk, outcome)]


def test_reports_tell_nobody(
    alice_room, carol, bob, frank, told, django_capture_on_commit_callbacks
):
    report, _ = services.file_report(frank, "user", bob.pk, "spam", room=alice_room.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(carol, report.review_item)
    assert told == []


def test_the_periodic_task_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "moderation.expire_held_messages" in tasks
