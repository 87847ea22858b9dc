"""The room moderation admin (/moderate/): every model a room moderator reaches, against
every role, for their own room (alice's, which carol moderates) and another (erin's).

The matrix: carol (appointed to A), alice (owns A), erin (owns B), bob (nobody), a
visitor, and dave (staff); review items, reports, restrictions, audit entries; list,
change page by URL, and actions.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.ids import next_message_id
from chat.models import ChatMessage
from moderation import services
from moderation.models import AuditEntry, Restriction, ReviewItem

pytestmark = pytest.mark.django_db(transaction=True)  # restriction caches write on commit

MODELS = ["reviewitem", "report", "restriction", "auditentry"]


def changelist(model: str) -> str:
    return reverse(f"room_moderation:moderation_{model}_changelist")


def change(model: str, pk: int) -> str:
    return reverse(f"room_moderation:moderation_{model}_change", args=[pk])


def held(room, user, text: str) -> ReviewItem:
    message = ChatMessage.objects.create(
        id=next_message_id(), room=room, user=user, text=text,
        created_at=timezone.now(), deleted_at=timezone.now(),
    )  # fmt: skip
    reasons = [{"code": "blocked_term", "action": "hold", "message": "held", "spans": []}]
    return services.hold_message(message.pk, room.pk, user.pk, reasons)


@pytest.fixture
def two_rooms(alice, alice_room, carol, erin, erin_room, bob, frank):
    """In each room: a held message, a report, a timeout, and their audit entries."""
    rows = {}
    for label, room, owner in (("a", alice_room, alice), ("b", erin_room, erin)):
        item = held(room, bob, f"held-in-{label}")
        report, _ = services.file_report(frank, "room", room.slug, "spam", f"report-in-{label}")
        restriction = services.timeout_user(owner, room, frank, 10, f"timeout-in-{label}")
        rows[label] = {
            "reviewitem": item,
            "report": report,
            "restriction": restriction,
            "auditentry": AuditEntry.objects.filter(room=room, action="timeout").get(),
        }
    return rows


def every_state(model: str) -> dict:
    """The review queue opens on open items; show resolved ones too."""
    return {"state": "all"} if model == "reviewitem" else {}


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["carol", "alice"])
def test_room_a_moderators_list_only_room_a(client, two_rooms, who, model, request):
    as_user(client, request.getfixturevalue(who))
    response = client.get(changelist(model), every_state(model))
    assert response.status_code == 200
    pks = set(response.context["cl"].result_list.values_list("pk", flat=True))
    assert two_rooms["a"][model].pk in pks and two_rooms["b"][model].pk not in pks
    every_room = {row.room_id for row in ReviewItem.objects.filter(pk__in=pks)}
    assert model != "reviewitem" or every_room == {two_rooms["a"][model].room_id}


@pytest.mark.parametrize("model", MODELS)
def test_room_a_moderator_opens_room_a_items_by_url(client, two_rooms, carol, model):
    as_user(client, carol)
    assert client.get(change(model, two_rooms["a"][model].pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["carol", "alice"])
def test_room_a_moderators_cannot_open_room_b_items_by_url(client, two_rooms, who, model, request):
    as_user(client, request.getfixturevalue(who))
    response = client.get(change(model, two_rooms["b"][model].pk))
    assert response.status_code == 302  # "does not exist", back to the index
    assert "-in-b" not in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("model", MODELS)
def test_room_b_owner_sees_room_b_only(client, two_rooms, erin, model):
    as_user(client, erin)
    shown = client.get(changelist(model), every_state(model)).context["cl"].result_list
    pks = set(shown.values_list("pk", flat=True))
    assert two_rooms["b"][model].pk in pks and two_rooms["a"][model].pk not in pks


@pytest.mark.parametrize("model", MODELS)
def test_staff_see_every_room(client, two_rooms, dave, model):
    as_user(client, dave)
    shown = client.get(changelist(model), every_state(model)).context["cl"].result_list
    pks = set(shown.values_list("pk", flat=True))
    assert {two_rooms["a"][model].pk, two_rooms["b"][model].pk} <= pks


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["bob", None])
def test_people_who_moderate_nothing_are_sent_to_sign_in(client, two_rooms, who, model, request):
    if who:
        as_user(client, request.getfixturevalue(who))
    for url in (changelist(model), change(model, two_rooms["a"][model].pk)):
        response = client.get(url)
        assert response.status_code == 302 and "-in-a" not in response.content.decode()
        sign_in = client.get(response["Location"])  # the admin's login: the site's sign-in
        assert sign_in.status_code == 302 and "/accounts/login/" in sign_in["Location"]


def test_room_moderators_do_not_reach_the_staff_admin(client, two_rooms, carol):
    as_user(client, carol)
    response = client.get(reverse("admin:moderation_reviewitem_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/moderate/accounts/user/").status_code == 404  # no users' data here


def test_the_index_lists_only_the_four_moderation_models(client, two_rooms, carol):
    as_user(client, carol)
    page = client.get(reverse("room_moderation:index")).content.decode()
    for name in ("Review items", "Reports", "Restrictions", "Audit entries"):
        assert name in page
    for absent in ("Users", "Gifts", "Rooms</a>", "Groups"):
        assert absent not in page


def test_room_a_moderator_approves_room_a_item(client, two_rooms, carol):
    as_user(client, carol)
    item = two_rooms["a"]["reviewitem"]
    data = {"action": "approve", "index": 0, "_selected_action": [item.pk]}
    client.post(changelist("reviewitem"), data, follow=True)
    item.refresh_from_db()
    assert item.state == ReviewItem.State.RESOLVED and item.resolved_by == carol
    assert AuditEntry.objects.filter(actor=carol, action="review_approved").exists()


def test_room_a_moderator_cannot_act_on_room_b_item(client, two_rooms, carol):
    as_user(client, carol)
    item = two_rooms["b"]["reviewitem"]
    for action in ("approve", "delete_message", "ban_from_room", "time_out_10"):
        data = {"action": action, "index": 0, "_selected_action": [item.pk]}
        client.post(changelist("reviewitem"), data, follow=True)
    item.refresh_from_db()
    assert item.state == ReviewItem.State.OPEN
    assert not AuditEntry.objects.filter(actor=carol).exists()


def test_site_wide_actions_are_not_offered_to_room_moderators(client, two_rooms, carol):
    as_user(client, carol)
    actions = dict(
        client.get(changelist("reviewitem")).context["action_form"].fields["action"].choices
    )
    assert "approve" in actions and "ban_from_room" in actions
    assert "ban_from_site" not in actions and "end_stream" not in actions


def test_room_a_moderator_cannot_lift_room_b_restriction(client, two_rooms, carol):
    as_user(client, carol)
    restriction = two_rooms["b"]["restriction"]
    data = {"action": "lift", "index": 0, "_selected_action": [restriction.pk]}
    client.post(changelist("restriction"), data, follow=True)
    restriction.refresh_from_db()
    assert restriction.lifted_at is None


def test_room_a_moderator_times_out_in_room_a_but_not_room_b(
    client, two_rooms, carol, alice_room, erin_room, viewers
):
    as_user(client, carol)
    add = reverse("room_moderation:moderation_restriction_add")
    target = viewers[0]
    fields = {"user": target.pk, "kind": "timeout", "minutes": 5, "reason": "spam"}
    client.post(add, {**fields, "room": erin_room.pk})
    assert not Restriction.objects.filter(user=target).exists()
    client.post(add, {**fields, "room": alice_room.pk})
    assert Restriction.objects.filter(user=target, room=alice_room, created_by=carol).exists()


def test_a_review_page_shows_the_users_record_in_the_moderators_rooms_only(
    client, two_rooms, carol
):
    as_user(client, carol)
    page = client.get(change("reviewitem", two_rooms["a"]["reviewitem"].pk)).content.decode()
    assert "held-in-a" in page
    assert "held-in-b" not in page


def test_room_a_moderator_cannot_reach_room_b_restrictions_by_api(
    client, two_rooms, carol, erin_room, alice_room
):
    as_user(client, carol)
    assert client.get(f"/api/rooms/{erin_room.slug}/restrictions/").status_code == 403
    assert client.get(f"/api/rooms/{alice_room.slug}/restrictions/").status_code == 200
