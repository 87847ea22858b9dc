"""Bans and timeouts as services: who may give them, and that every check sees them."""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import redis
from django.utils import timezone

from accounts import permissions
from moderation import enforcement, services
from moderation.errors import InvalidAction, NotAllowed, Restricted
from moderation.models import AuditEntry, Restriction
from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)  # cache writes happen on commit


def test_a_timed_out_viewer_cannot_chat_and_is_told_for_how_long(alice_room, carol, bob):
    services.timeout_user(carol, alice_room, bob, 10, "spam")
    assert services.is_restricted(bob.pk, alice_room.pk)
    with pytest.raises(Restricted) as refused:
        services.check_not_restricted(bob.pk, alice_room.pk)
    assert refused.value.message == "You are timed out in this room for 10 more minutes."
    assert refused.value.details["kind"] == "timeout"
    assert 590 < refused.value.details["retry_after"] <= 600


def test_a_ban_is_moderations_answer_not_a_role(alice_room, carol, bob):
    """can_chat is what roles allow; the ban is moderation's, and the room socket asks it."""
    services.ban_user(carol, alice_room, bob, "abuse")
    assert permissions.can_chat(bob, alice_room)
    assert permissions.role_in_room(bob, alice_room) == permissions.ROLE_VIEWER
    assert services.is_restricted(bob.pk, alice_room.pk)


def test_a_ban_holds_in_its_room_only(alice_room, erin_room, carol, bob):
    services.ban_user(carol, alice_room, bob, "abuse")
    assert services.is_restricted(bob.pk, alice_room.pk)
    assert not services.is_restricted(bob.pk, erin_room.pk)
    services.check_not_restricted(bob.pk, erin_room.pk)


def test_a_site_ban_holds_in_every_room(alice_room, erin_room, dave, bob):
    services.ban_from_site(dave, bob, "spam bot")
    for room in (alice_room, erin_room):
        with pytest.raises(Restricted, match="banned from this site"):
            services.check_not_restricted(bob.pk, room.pk)


def test_lifting_a_ban_lets_the_viewer_chat_again(alice_room, carol, bob):
    services.ban_user(carol, alice_room, bob)
    assert services.lift_restrictions(carol, alice_room, bob) == 1
    assert not services.is_restricted(bob.pk, alice_room.pk)


def test_an_expired_timeout_no_longer_restricts(alice_room, carol, bob):
    restriction = services.timeout_user(carol, alice_room, bob, 5)
    Restriction.objects.filter(pk=restriction.pk).update(expires_at=timezone.now())
    enforcement.remove(alice_room.pk, bob.pk)  # what the key's TTL does in Redis
    assert services.active_restriction(bob.pk, alice_room.pk) is None


def test_a_ban_survives_the_cache_losing_everything(alice_room, carol, bob):
    services.ban_user(carol, alice_room, bob)
    for key_room in (alice_room.pk, None):
        enforcement.remove(key_room, bob.pk)
        _forget_marker(key_room)
    # Markers gone: the next check reloads the room's bans from the database.
    with pytest.raises(Restricted):
        services.check_not_restricted(bob.pk, alice_room.pk)


def _forget_marker(room_id):
    client = enforcement._sync_redis()
    if client is not None:
        client.delete(enforcement.marker_key(room_id))
    else:
        enforcement._local.delete(enforcement.marker_key(room_id))


@contextmanager
def cache_writes_failing():
    """Every write of a restriction to the cache fails (Redis restarting, a network blip)."""

    def refuse(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    client = enforcement._sync_redis()
    with pytest.MonkeyPatch.context() as patch:
        if client is None:
            patch.setattr(enforcement._local, "set", refuse)
        else:
            failing = SimpleNamespace(set=refuse, delete=client.delete)
            patch.setattr(enforcement, "_sync_redis", lambda: failing)
        yield


def test_a_ban_saved_while_the_cache_fails_is_still_enforced(alice_room, carol, bob):
    assert services.active_restriction(bob.pk, alice_room.pk) is None  # the room is loaded
    with cache_writes_failing():
        services.ban_user(carol, alice_room, bob, "abuse")  # committed: no error for carol
    assert Restriction.objects.filter(user=bob, kind="ban").exists()
    with pytest.raises(Restricted, match="banned"):
        services.check_not_restricted(bob.pk, alice_room.pk)


def test_a_new_timeout_replaces_the_running_one(alice_room, carol, bob):
    services.timeout_user(carol, alice_room, bob, 60)
    services.timeout_user(carol, alice_room, bob, 2)
    assert Restriction.objects.active().filter(user=bob).count() == 1
    assert services.active_restriction(bob.pk, alice_room.pk).seconds_left() <= 120


def test_a_timeout_does_not_soften_a_ban(alice_room, carol, bob):
    services.ban_user(carol, alice_room, bob)
    with pytest.raises(InvalidAction):
        services.timeout_user(carol, alice_room, bob, 5)


def test_a_room_moderator_cannot_act_in_another_room(erin_room, carol, bob):
    with pytest.raises(NotAllowed):
        services.ban_user(carol, erin_room, bob)
    with pytest.raises(NotAllowed):
        services.timeout_user(carol, erin_room, bob, 5)
    assert not Restriction.objects.exists()


def test_a_viewer_cannot_act_at_all(alice_room, bob, frank):
    for act in (
        lambda: services.ban_user(bob, alice_room, frank),
        lambda: services.timeout_user(bob, alice_room, frank, 5),
        lambda: services.ban_from_site(bob, frank),
        lambda: services.clear_chat(bob, alice_room),
        lambda: services.set_slow_mode(bob, alice_room, 5),
        lambda: services.set_followers_only(bob, alice_room, True),
    ):
        with pytest.raises(NotAllowed):
            act()
    assert not Restriction.objects.exists()


def test_only_the_owner_may_silence_a_moderator(alice_room, alice, carol, bob):
    rooms.appoint_moderator(alice_room, alice, bob)
    with pytest.raises(NotAllowed, match="owner"):
        services.timeout_user(carol, alice_room, bob, 5)
    services.timeout_user(alice, alice_room, bob, 5)


def test_nobody_silences_the_owner_or_staff(alice_room, alice, carol, dave):
    with pytest.raises(NotAllowed):
        services.ban_user(carol, alice_room, alice)
    with pytest.raises(NotAllowed):
        services.ban_user(alice, alice_room, dave)
    with pytest.raises(NotAllowed):
        services.ban_from_site(dave, dave)


def test_only_staff_ban_from_the_site(alice, bob):
    with pytest.raises(NotAllowed):
        services.ban_from_site(alice, bob)


def test_every_restriction_is_in_the_audit_log(alice_room, carol, bob):
    services.timeout_user(carol, alice_room, bob, 5, "caps")
    services.ban_user(carol, alice_room, bob, "again")
    services.lift_restrictions(carol, alice_room, bob, "appeal")
    log = list(AuditEntry.objects.order_by("id").values_list("action", "actor", "target_user"))
    assert log == [
        ("timeout", carol.pk, bob.pk),
        ("ban", carol.pk, bob.pk),
        ("lift", carol.pk, bob.pk),
    ]


def test_the_audit_log_cannot_be_edited(alice_room, carol, bob):
    from django.core.exceptions import PermissionDenied

    services.ban_user(carol, alice_room, bob)
    entry = AuditEntry.objects.get()
    entry.reason = "rewritten"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()


def test_a_ban_stands_when_closing_the_banned_sockets_fails(alice_room, carol, bob, monkeypatch):
    """The notice after the commit fails (Redis away): the moderator gets no error for a ban
    that was made, and the failure is counted for the operator."""
    from infra.after_commit import FAILURES
    from realtime import publish as broadcast

    def refuse(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(broadcast, "publish", refuse)
    before = FAILURES.labels("publish")._value.get()
    services.ban_user(carol, alice_room, bob, "abuse")
    assert services.is_restricted(bob.pk, alice_room.pk)
    assert FAILURES.labels("publish")._value.get() == before + 1
