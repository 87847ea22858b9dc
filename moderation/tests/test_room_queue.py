"""The room's own review queue beside its chat: who sees it, who decides, and that a
room's moderators reach only their room's items (by URL and by API)."""

import pytest
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services
from moderation.models import AuditEntry, Restriction, ReviewItem
from rooms import directory_feed

pytestmark = pytest.mark.django_db


def held(room, user, text: str) -> ReviewItem:
    message = ChatMessage.objects.create(
        id=next_message_id(), room=room, user=user, text=text,
        created_at=timezone.now(), deleted_at=timezone.now(),
    )  # fmt: skip
    reasons = [{"code": "blocked_term", "action": "hold", "message": "held", "spans": []}]
    return services.hold_message(message.pk, room.pk, user.pk, reasons)


def queue_url(room) -> str:
    return f"/api/rooms/{room.slug}/review-queue/"


@pytest.fixture
def items(alice_room, erin_room, bob):
    return {"a": held(alice_room, bob, "held-in-a"), "b": held(erin_room, bob, "held-in-b")}


def test_a_moderator_sees_the_rooms_open_items(client, items, carol, alice_room):
    client.force_login(carol)
    body = client.get(queue_url(alice_room)).json()
    assert [(item["id"], item["text"], item["user_name"]) for item in body] == [
        (items["a"].pk, "held-in-a", "bob")
    ]
    assert body[0]["source"] == "held" and body[0]["message_id"] == str(items["a"].message_id)


@pytest.mark.parametrize("who", ["bob", "erin", None])
def test_others_cannot_see_room_as_queue(client, items, alice_room, who, request):
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(queue_url(alice_room))
    assert response.status_code in (401, 403)
    assert "held-in-a" not in response.content.decode()


def test_a_moderator_of_room_a_cannot_read_room_bs_queue(client, items, carol, erin_room):
    client.force_login(carol)
    assert client.get(queue_url(erin_room)).status_code == 403


@pytest.mark.parametrize("decision", ["approve", "remove", "timeout", "ban"])
def test_a_moderator_decides_in_one_click(client, items, carol, alice_room, bob, decision):
    client.force_login(carol)
    item = items["a"]
    response = client.post(
        f"{queue_url(alice_room)}{item.pk}/",
        {"decision": decision},
        content_type="application/json",
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.state == ReviewItem.State.RESOLVED and item.resolved_by == carol
    assert AuditEntry.objects.filter(actor=carol, review_item=item).exists()
    if decision in ("timeout", "ban"):
        assert Restriction.objects.filter(room=alice_room, user=bob, created_by=carol).exists()


def test_room_bs_item_is_not_found_through_room_as_address(client, items, carol, alice_room):
    client.force_login(carol)
    other = items["b"]
    response = client.post(
        f"{queue_url(alice_room)}{other.pk}/",
        {"decision": "approve"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert ReviewItem.objects.get(pk=other.pk).state == ReviewItem.State.OPEN


def test_room_bs_item_through_its_own_address_is_refused(client, items, carol, erin_room):
    client.force_login(carol)
    other = items["b"]
    response = client.post(
        f"{queue_url(erin_room)}{other.pk}/", {"decision": "ban"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert ReviewItem.objects.get(pk=other.pk).state == ReviewItem.State.OPEN


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "drop table"},
        {"decision": "timeout", "minutes": -5},
        {"decision": "timeout", "minutes": "ten"},
        {"decision": "timeout", "minutes": 10**12},
        {"decision": ["approve"]},
        {},
    ],
)
def test_bad_decisions_are_refused_clearly(client, items, carol, alice_room, body):
    client.force_login(carol)
    response = client.post(
        f"{queue_url(alice_room)}{items['a'].pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_action"
    assert ReviewItem.objects.get(pk=items["a"].pk).state == ReviewItem.State.OPEN


def test_a_decided_item_cannot_be_decided_twice(client, items, carol, alice_room):
    client.force_login(carol)
    url = f"{queue_url(alice_room)}{items['a'].pk}/"
    client.post(url, {"decision": "approve"}, content_type="application/json")
    again = client.post(url, {"decision": "ban"}, content_type="application/json")
    assert again.status_code == 400 and "already resolved" in again.json()["message"]


def test_the_rooms_moderators_hear_that_the_queue_changed(
    alice_room, alice, carol, bob, monkeypatch, django_capture_on_commit_callbacks
):
    told = []
    monkeypatch.setattr(directory_feed, "send_to_users", lambda frames: told.append(frames))
    with django_capture_on_commit_callbacks(execute=True):
        item = held(alice_room, bob, "spam spam")
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(carol, item)
    queue_frames = [
        frames for frames in told if next(iter(frames.values()))["type"] == "moderation.queue"
    ]
    assert len(queue_frames) == 2
    for frames in queue_frames:
        assert set(frames) == {alice.pk, carol.pk}
        assert all(frame == {"type": "moderation.queue", "room": alice_room.slug}
                   for frame in frames.values())  # fmt: skip


def test_the_queue_is_on_the_room_page_for_moderators_only(client, alice_room, carol, bob):
    client.force_login(carol)
    assert "data-mod-queue" in client.get(alice_room.get_absolute_url()).content.decode()
    client.force_login(bob)
    assert "data-mod-queue" not in client.get(alice_room.get_absolute_url()).content.decode()
