"""Who may go live: one rule (`may_publish`), and staff holds the owner cannot undo."""

import pytest

from accounts import services as accounts
from accounts.errors import NotAllowed as AccountNotAllowed
from moderation import services as moderation
from rooms import services
from rooms.errors import NotAllowed

pytestmark = pytest.mark.django_db


def refusal_code(room):
    refusal = services.may_publish(room)
    return refusal.code if refusal else None


def test_a_started_room_of_an_active_broadcaster_may_go_live(alice_room):
    assert services.may_publish(alice_room) is None


def test_a_deactivated_owner_may_not_go_live(alice, alice_room):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert refusal_code(alice_room) == "owner_inactive"


def test_an_owner_whose_broadcasting_staff_took_away_may_not_go_live(alice, alice_room, dave):
    accounts.revoke_broadcasting(dave, alice, "Repeated copyright strikes")
    refusal = services.may_publish(alice_room)
    assert refusal.code == "broadcasting_revoked"
    assert "Repeated copyright strikes" in refusal.reason


def test_a_site_banned_owner_may_not_go_live(alice, alice_room, dave):
    moderation.ban_from_site(dave, alice, "spam")
    assert refusal_code(alice_room) == "site_banned"
    moderation.lift_site_ban(dave, alice)
    assert services.may_publish(alice_room) is None


def test_a_lifted_or_expired_room_ban_does_not_bar_the_owner(alice, alice_room, bob, dave):
    # Only a site ban of the owner counts; a room ban of someone else never does.
    moderation.ban_user(alice, alice_room, bob)
    assert services.may_publish(alice_room) is None


def test_the_owner_cannot_turn_broadcasting_back_on_after_staff(client, alice, alice_room, dave):
    accounts.revoke_broadcasting(dave, alice, "Repeated copyright strikes")
    with pytest.raises(AccountNotAllowed, match="only staff"):
        accounts.enable_broadcasting(alice)
    client.force_login(alice)
    response = client.post("/accounts/broadcast/", follow=True)
    alice.refresh_from_db()
    assert not alice.is_broadcaster and alice.broadcasting_revoked_by_staff
    page = response.content.decode()
    assert "only staff can give it back" in page and "Repeated copyright strikes" in page

    accounts.restore_broadcasting(dave, alice)
    assert services.may_publish(alice_room) is None


def test_only_staff_revoke_or_restore_broadcasting(alice, bob):
    with pytest.raises(AccountNotAllowed):
        accounts.revoke_broadcasting(bob, alice)
    alice.refresh_from_db()
    assert alice.is_broadcaster and not alice.broadcasting_revoked_by_staff
    with pytest.raises(AccountNotAllowed):
        accounts.restore_broadcasting(alice, alice)


def test_the_owner_may_turn_broadcasting_back_on_after_turning_it_off(alice, alice_room):
    accounts.disable_broadcasting(alice)
    assert refusal_code(alice_room) == "not_broadcaster"
    accounts.enable_broadcasting(alice)
    assert services.may_publish(alice_room) is None


def test_the_owner_cannot_start_after_a_staff_stop(client, alice, alice_room, dave):
    services.stop_room(alice_room, dave, "Nudity in the stream")
    assert refusal_code(alice_room) == "staff_stopped"
    with pytest.raises(NotAllowed, match="only staff"):
        services.start_room(alice_room, alice)
    client.force_login(alice)
    assert client.post(f"/rooms/{alice_room.slug}/start/").status_code == 403
    alice_room.refresh_from_db()
    assert not alice_room.accepting_streams and alice_room.stopped_by_staff
    # The owner sees the hold and its reason, and no Start button.
    page = client.get(f"/rooms/{alice_room.slug}/manage/").content.decode()
    assert "Nudity in the stream" in page and "data-start" not in page
    dashboard = client.get("/accounts/dashboard/").content.decode()
    assert "Nudity in the stream" in dashboard

    services.start_room(alice_room, dave)  # staff lift it
    assert services.may_publish(alice_room) is None
    services.stop_room(alice_room, alice)  # the owner's own Stop is theirs to undo
    services.start_room(alice_room, alice)


def test_the_owner_cannot_make_a_new_key_after_staff_revoked_it(client, alice, alice_room, dave):
    services.rotate_stream_key(alice_room, alice)
    services.revoke_stream_key(alice_room, dave, "Reported stream")
    alice_room.refresh_from_db()
    assert alice_room.stream_key_hash == ""
    with pytest.raises(NotAllowed, match="Reported stream"):
        services.rotate_stream_key(alice_room, alice)
    client.force_login(alice)
    assert client.post(f"/rooms/{alice_room.slug}/stream-key/").status_code == 403
    assert client.post(f"/api/rooms/{alice_room.slug}/stream-key/").status_code == 403
    alice_room.refresh_from_db()
    assert alice_room.stream_key_hash == ""

    services.start_room(alice_room, dave)
    assert services.rotate_stream_key(alice_room, alice)


def test_the_owner_may_make_a_new_key_after_revoking_their_own(alice, alice_room):
    services.rotate_stream_key(alice_room, alice)
    services.revoke_stream_key(alice_room, alice)
    assert services.rotate_stream_key(alice_room, alice)


def test_a_site_banned_owner_cannot_press_start_or_make_a_key(alice, alice_room, dave):
    services.stop_room(alice_room, alice)
    moderation.ban_from_site(dave, alice, "spam")
    with pytest.raises(NotAllowed, match="banned"):
        services.start_room(alice_room, alice)
    with pytest.raises(NotAllowed, match="banned"):
        services.rotate_stream_key(alice_room, alice)


def test_one_query_answers_every_held_room(alice, alice_room, dave, django_assert_num_queries):
    other = services.create_room(alice, "Second room")
    moderation.ban_from_site(dave, alice)
    with django_assert_num_queries(1):
        states = services.publish_states([alice_room.pk, other.pk, 999_999])
    assert {pk: state.refusal.code for pk, state in states.items()} == {
        alice_room.pk: "site_banned",
        other.pk: "site_banned",
    }
