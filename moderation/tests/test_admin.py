"""The review queue and the records in Django admin, driven through the test client."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services
from moderation.models import AuditEntry, BlockedTermRule, Restriction, ReviewItem
from rooms.models import Room

pytestmark = pytest.mark.django_db(transaction=True)  # cache writes happen on commit
QUEUE = reverse("admin:moderation_reviewitem_changelist")


@pytest.fixture
def reviewer(client, dave):
    """dave (staff) with the moderation permissions a site's moderators get."""
    dave.user_permissions.add(*Permission.objects.filter(content_type__app_label="moderation"))
    client.force_login(dave)
    return client


def held(room, user, text="you idiot") -> ReviewItem:
    message = ChatMessage.objects.create(
        id=next_message_id(),
        room=room,
        user=user,
        text=text,
        created_at=timezone.now(),
        deleted_at=timezone.now(),
    )
    reasons = [{"code": "blocked_term", "action": "hold", "message": "held", "spans": []}]
    return services.hold_message(message.pk, room.pk, user.pk, reasons)


def act(client, action: str, *items, **extra):
    data = {"action": action, "index": 0, "_selected_action": [i.pk for i in items], **extra}
    return client.post(QUEUE, data, follow=True)


def test_the_queue_shows_open_items_with_filters(reviewer, dave, alice_room, erin_room, bob):
    held(alice_room, bob, "first held")
    other = held(erin_room, bob, "second held")
    services.approve(dave, other)
    page = reviewer.get(QUEUE).content.decode()
    assert "first held" in page and "second held" not in page
    everything = reviewer.get(QUEUE, {"state": "all"}).content.decode()
    assert "second held" in everything
    by_room = reviewer.get(QUEUE, {"state": "all", "room__id__exact": erin_room.pk})
    assert "first held" not in by_room.content.decode()
    assert reviewer.get(QUEUE, {"reason": "blocked_term"}).status_code == 200


def test_an_item_shows_its_context(reviewer, alice_room, bob, carol):
    before = ChatMessage.objects.create(
        id=next_message_id(), room=alice_room, user=carol, text="be nice", created_at=timezone.now()
    )
    services.timeout_user(carol, alice_room, bob, 5, "earlier trouble")
    item = held(alice_room, bob, "you idiot")
    page = reviewer.get(reverse("admin:moderation_reviewitem_change", args=[item.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert before.text in text and "you idiot" in text
    assert "earlier trouble" in text  # the user's record
    assert "Alice&#x27;s Room" in text
    assert 'form="review-action-approve"' in text  # one click from the item itself


def test_approving_a_held_message_shows_it(reviewer, alice_room, bob):
    item = held(alice_room, bob)
    assert "Approved: 1 item(s)." in act(reviewer, "approve", item).content.decode()
    item.refresh_from_db()
    assert (item.state, item.resolution) == ("resolved", "approved")
    assert ChatMessage.objects.get(pk=item.message_id).deleted_at is None
    assert AuditEntry.objects.filter(action="review_approved", review_item=item).exists()


def test_deleting_a_reported_message(reviewer, alice_room, bob, frank):
    message = ChatMessage.objects.create(
        id=next_message_id(), room=alice_room, user=bob, text="spam", created_at=timezone.now()
    )
    services.file_report(frank, "message", message.pk, "spam")
    act(reviewer, "delete_message", ReviewItem.objects.get())
    message.refresh_from_db()
    assert message.deleted_at is not None


def test_one_click_timeout(reviewer, alice_room, bob):
    act(reviewer, "time_out_10", held(alice_room, bob))
    restriction = Restriction.objects.get(user=bob)
    assert restriction.kind == "timeout" and restriction.room == alice_room
    assert 590 < (restriction.expires_at - timezone.now()).total_seconds() <= 600


def test_a_timeout_of_n_minutes_asks_for_n(reviewer, alice_room, bob):
    item = held(alice_room, bob)
    form = act(reviewer, "time_out_for", item)
    assert 'name="minutes"' in form.content.decode()
    assert not Restriction.objects.exists()
    done = reviewer.post(
        QUEUE,
        {
            "action": "time_out_for",
            "_selected_action": [item.pk],
            "apply": "1",
            "minutes": 45,
            "reason": "insults",
        },
        follow=True,
    )
    assert "Timed out for 45 minutes" in done.content.decode()
    restriction = Restriction.objects.get(user=bob)
    assert restriction.reason == "insults"
    assert 2690 < (restriction.expires_at - timezone.now()).total_seconds() <= 2700


def test_bulk_bans_from_the_room_and_the_site(reviewer, alice_room, bob, frank):
    first, second = held(alice_room, bob, "one"), held(alice_room, frank, "two")
    act(reviewer, "ban_from_room", first, second)
    assert set(Restriction.objects.values_list("user", "kind", "room")) == {
        (bob.pk, "ban", alice_room.pk),
        (frank.pk, "ban", alice_room.pk),
    }
    third = held(alice_room, bob, "three")
    act(reviewer, "ban_from_site", third)
    assert Restriction.objects.filter(user=bob, room=None, kind="ban").exists()


def test_ending_a_reported_stream_revokes_its_key(reviewer, live_room, frank):
    Room.objects.filter(pk=live_room.pk).update(stream_key_hash="a" * 64)
    services.file_report(frank, "room", live_room.slug, "violence")
    act(reviewer, "end_stream", ReviewItem.objects.get())
    live_room.refresh_from_db()
    assert live_room.status == "ended" and live_room.stream_key_hash == ""


def test_the_owner_cannot_undo_a_stream_ended_from_the_queue(reviewer, live_room, frank):
    from rooms import services as rooms
    from rooms.errors import NotAllowed

    services.file_report(frank, "room", live_room.slug, "violence")
    act(reviewer, "end_stream", ReviewItem.objects.get())
    live_room.refresh_from_db()
    owner = live_room.owner
    with pytest.raises(NotAllowed, match="violence"):
        rooms.rotate_stream_key(live_room, owner)
    with pytest.raises(NotAllowed, match="only staff"):
        rooms.start_room(live_room, owner)
    assert rooms.may_publish(live_room).code == "staff_stopped"


def test_a_refused_action_says_why(reviewer, alice_room, frank):
    services.file_report(frank, "room", alice_room.slug, "spam")  # the item's user is the owner
    page = act(reviewer, "ban_from_room", ReviewItem.objects.get()).content.decode()
    assert "owner and staff cannot be timed out or banned" in page
    assert not Restriction.objects.exists()


def test_the_audit_log_is_read_only(reviewer, alice_room, carol, bob):
    services.ban_user(carol, alice_room, bob, "abuse")
    entry = AuditEntry.objects.get()
    listing = reviewer.get(reverse("admin:moderation_auditentry_changelist"))
    assert listing.status_code == 200 and "abuse" in listing.content.decode()
    change_url = reverse("admin:moderation_auditentry_change", args=[entry.pk])
    reviewer.post(change_url, {"reason": "rewritten"})
    entry.refresh_from_db()
    assert entry.reason == "abuse"
    delete_url = reverse("admin:moderation_auditentry_delete", args=[entry.pk])
    assert reviewer.post(delete_url, {"post": "yes"}).status_code == 403
    assert reviewer.get(reverse("admin:moderation_auditentry_add")).status_code == 403


def test_a_ban_made_in_admin_is_enforced(reviewer, alice_room, bob):
    reviewer.post(
        reverse("admin:moderation_restriction_add"),
        {"user": bob.pk, "room": alice_room.pk, "kind": "ban", "reason": "from admin"},
    )
    assert services.is_restricted(bob.pk, alice_room.pk)
    assert AuditEntry.objects.filter(action="ban", reason="from admin").exists()


def test_blocked_terms_in_admin_are_checked(reviewer):
    url = reverse("admin:moderation_blockedtermrule_add")
    refused = reviewer.post(url, {"term": "\u200b", "action": "block", "whole_word": "on"})
    assert refused.status_code == 200 and "nothing left to match" in refused.content.decode()
    reviewer.post(url, {"term": "scam", "action": "block", "whole_word": "on"})
    assert BlockedTermRule.objects.get().room is None  # site-wide
    assert AuditEntry.objects.filter(action="add_blocked_term").exists()
