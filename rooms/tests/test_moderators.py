"""An owner appoints and removes room moderators from the dashboard; nobody else can."""

from django.urls import reverse

from accounts import permissions


def test_the_owner_appoints_and_removes_a_moderator(client, alice, alice_room, bob):
    client.force_login(alice)
    response = client.post(
        reverse("rooms:add_moderator", args=[alice_room.slug]), {"username": "BOB"}
    )
    assert response.status_code == 302
    assert permissions.can_moderate_room(bob, alice_room)
    assert "bob" in client.get(reverse("accounts:dashboard")).content.decode()

    client.post(reverse("rooms:remove_moderator", args=[alice_room.slug, bob.pk]))
    assert not permissions.can_moderate_room(bob, alice_room)


def test_an_unknown_name_is_a_clear_error(client, alice, alice_room):
    client.force_login(alice)
    response = client.post(
        reverse("rooms:add_moderator", args=[alice_room.slug]), {"username": "nobody"}, follow=True
    )
    assert "There is no user called “nobody”" in response.content.decode()


def test_a_moderator_cannot_appoint_others(client, carol, alice_room, bob):
    client.force_login(carol)
    response = client.post(
        reverse("rooms:add_moderator", args=[alice_room.slug]), {"username": "bob"}
    )
    assert response.status_code == 403
    assert not permissions.can_moderate_room(bob, alice_room)


def test_a_viewer_cannot_remove_a_moderator(client, bob, carol, alice_room):
    client.force_login(bob)
    response = client.post(reverse("rooms:remove_moderator", args=[alice_room.slug, carol.pk]))
    assert response.status_code == 403
    assert permissions.can_moderate_room(carol, alice_room)
