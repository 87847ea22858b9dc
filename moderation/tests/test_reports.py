"""Viewers reporting messages, users and rooms; the REST endpoint; bad reports."""

import pytest
from django.urls import reverse

from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services
from moderation.errors import InvalidReport, NotAllowed, TooManyReports, UnknownTarget
from moderation.models import Report, ReviewItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_message(alice_room, bob):
    from django.utils import timezone

    return ChatMessage.objects.create(
        id=next_message_id(),
        room=alice_room,
        user=bob,
        text="buy followers",
        created_at=timezone.now(),
    )


def test_reports_of_one_message_join_one_review_item(bobs_message, carol, frank, alice):
    services.file_report(carol, "message", bobs_message.pk, "spam")
    services.file_report(frank, "message", str(bobs_message.pk), "spam", "again and again")
    item = ReviewItem.objects.get()
    assert (item.kind, item.source, item.report_count) == ("message", "reported", 2)
    assert (item.room_id, item.user_id, item.message_id) == (
        bobs_message.room_id,
        bobs_message.user_id,
        bobs_message.pk,
    )


def test_a_second_report_by_the_same_viewer_is_not_counted(bobs_message, frank):
    _, first = services.file_report(frank, "message", bobs_message.pk, "spam")
    _, second = services.file_report(frank, "message", bobs_message.pk, "hate")
    assert (first, second) == (True, False)
    assert ReviewItem.objects.get().report_count == 1
    assert Report.objects.count() == 1


def test_reporting_a_resolved_target_opens_a_new_item(bobs_message, frank, carol, dave):
    services.file_report(frank, "message", bobs_message.pk, "spam")
    services.approve(dave, ReviewItem.objects.get())
    services.file_report(frank, "message", bobs_message.pk, "spam")
    assert ReviewItem.objects.filter(state="open").count() == 1
    assert ReviewItem.objects.count() == 2


def test_a_user_and_a_room_can_be_reported(alice_room, bob, frank):
    services.file_report(frank, "user", bob.pk, "harassment", room=alice_room.slug)
    services.file_report(frank, "room", alice_room.slug, "sexual")
    user_item, room_item = ReviewItem.objects.order_by("pk")
    assert (user_item.kind, user_item.user_id, user_item.room_id) == ("user", bob.pk, alice_room.pk)
    assert (room_item.kind, room_item.room_id) == ("room", alice_room.pk)


def test_reports_are_rate_limited(settings, alice_room, frank, viewers, bob):
    settings.MODERATION_REPORT_LIMIT = 2
    services.file_report(frank, "user", bob.pk, "spam")
    services.file_report(frank, "room", alice_room.pk, "spam")
    with pytest.raises(TooManyReports):
        services.file_report(frank, "user", viewers[0].pk, "spam")


@pytest.mark.parametrize(
    ("kind", "target", "reason", "error"),
    [
        ("message", "999999", "spam", UnknownTarget),
        ("message", "12abc", "spam", InvalidReport),
        ("message", True, "spam", InvalidReport),
        ("user", 999999, "spam", UnknownTarget),
        ("room", "no-such-room", "spam", UnknownTarget),
        ("stream", 1, "spam", InvalidReport),
        ("room", "alices-room", "boring", InvalidReport),
    ],
)
def test_a_bad_report_gets_a_clear_error(alice_room, frank, kind, target, reason, error):
    with pytest.raises(error) as refused:
        services.file_report(frank, kind, target, reason)
    assert refused.value.message
    assert not Report.objects.exists()


def test_nobody_reports_themselves_or_anonymously(bobs_message, bob):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(InvalidReport):
        services.file_report(bob, "message", bobs_message.pk, "spam")
    with pytest.raises(InvalidReport):
        services.file_report(bob, "user", bob.pk, "spam")
    with pytest.raises(NotAllowed):
        services.file_report(AnonymousUser(), "user", bob.pk, "spam")


def test_the_report_endpoint(client, bobs_message, frank):
    url = reverse("api-moderation-report")
    body = {"kind": "message", "target": str(bobs_message.pk), "reason": "spam"}
    assert client.post(url, body, content_type="application/json").status_code in (401, 403)
    client.force_login(frank)
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201 and first.json()["created"] is True
    again = client.post(url, body, content_type="application/json")
    assert again.status_code == 200 and again.json()["created"] is False


def test_the_report_endpoint_explains_bad_input(client, alice_room, frank):
    client.force_login(frank)
    url = reverse("api-moderation-report")
    bad_reason = client.post(
        url, {"kind": "room", "target": alice_room.slug, "reason": "boring"}, "application/json"
    )
    assert bad_reason.status_code == 400 and "reason" in bad_reason.json()["fields"]
    missing = client.post(
        url, {"kind": "message", "target": "999999", "reason": "spam"}, "application/json"
    )
    assert missing.status_code == 404
    body = missing.json()
    assert (body["code"], body["message"]) == ("unknown_target", "That message is gone.")


def test_reporting_a_live_room_keeps_a_still_of_the_stream(
    settings, tmp_path, live_room, frank, django_capture_on_commit_callbacks
):
    settings.HLS_ROOT = tmp_path / "hls"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "hls" / live_room.slug).mkdir(parents=True)
    (tmp_path / "hls" / live_room.slug / "thumbnail.jpg").write_bytes(b"\xff\xd8\xff\xd9")
    with django_capture_on_commit_callbacks(execute=True):
        services.file_report(frank, "room", live_room.slug, "violence")
    item = ReviewItem.objects.get()
    snapshot = item.snapshots.get()
    assert snapshot.stream_id == live_room.current_stream_id
    assert snapshot.image.read() == b"\xff\xd8\xff\xd9"
