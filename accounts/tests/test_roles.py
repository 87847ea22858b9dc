"""Every role's permissions, asked through accounts.permissions as every adapter does."""

from django.contrib.auth.models import AnonymousUser

from accounts import permissions
from rooms import services as rooms


def test_anonymous_may_watch_but_not_chat_or_moderate(alice_room):
    anonymous = AnonymousUser()
    assert not permissions.can_chat(anonymous, alice_room)
    assert not permissions.can_moderate_room(anonymous, alice_room)
    assert permissions.role_in_room(anonymous, alice_room) == permissions.ROLE_ANONYMOUS


def test_viewer_may_chat_but_not_moderate_or_manage(bob, alice_room):
    assert permissions.can_chat(bob, alice_room)
    assert not permissions.can_moderate_room(bob, alice_room)
    assert not permissions.can_manage_room(bob, alice_room)
    assert not permissions.can_broadcast(bob)
    assert permissions.role_in_room(bob, alice_room) == permissions.ROLE_VIEWER


def test_owner_manages_moderates_and_alone_sees_the_stream_key(alice, dave, carol, alice_room):
    assert permissions.can_manage_room(alice, alice_room)
    assert permissions.can_moderate_room(alice, alice_room)
    assert permissions.can_see_stream_key(alice, alice_room)
    assert not permissions.can_see_stream_key(dave, alice_room)
    assert not permissions.can_see_stream_key(carol, alice_room)
    assert permissions.role_in_room(alice, alice_room) == permissions.ROLE_OWNER


def test_room_moderator_moderates_only_the_room_granted(carol, alice_room, bob):
    bob.is_broadcaster = True
    bob.save()
    bobs_room = rooms.create_room(bob, "Bob's Room")
    assert permissions.can_moderate_room(carol, alice_room)
    assert not permissions.can_moderate_room(carol, bobs_room)
    assert not permissions.can_manage_room(carol, alice_room)
    assert permissions.role_in_room(carol, alice_room) == permissions.ROLE_MODERATOR
    assert permissions.role_in_room(carol, bobs_room) == permissions.ROLE_VIEWER


def test_staff_moderate_and_manage_every_room(dave, alice_room):
    assert permissions.can_moderate_room(dave, alice_room)
    assert permissions.can_manage_room(dave, alice_room)
    assert permissions.role_in_room(dave, alice_room) == permissions.ROLE_STAFF


def test_deactivated_user_loses_every_role(alice, alice_room):
    alice.is_active = False
    alice.save()
    assert not permissions.can_broadcast(alice)
    assert not permissions.can_manage_room(alice, alice_room)
    assert not permissions.can_chat(alice, alice_room)


def test_removed_moderator_loses_the_room(carol, alice, alice_room):
    rooms.remove_moderator(alice_room, alice, carol)
    assert not permissions.can_moderate_room(carol, alice_room)
