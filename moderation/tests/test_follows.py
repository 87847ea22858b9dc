"""Following rooms: the button, and the directory listing followed rooms first."""

import pytest
from django.urls import reverse

from rooms import services as rooms
from rooms.models import Follow, Room

pytestmark = pytest.mark.django_db


def test_a_viewer_follows_and_unfollows_a_room(client, alice_room, bob):
    client.force_login(bob)
    url = reverse("rooms:follow", args=[alice_room.slug])
    assert client.post(url).url == alice_room.get_absolute_url()
    assert rooms.is_following(bob.pk, alice_room.pk)
    client.post(url, {"unfollow": "1"})
    assert not Follow.objects.exists()


def test_following_needs_an_account(client, alice_room):
    response = client.post(reverse("rooms:follow", args=[alice_room.slug]))
    assert response.status_code == 302 and "login" in response.url
    assert not Follow.objects.exists()


def test_the_directory_lists_followed_rooms_first(client, alice_room, erin_room, bob):
    Room.objects.update(status=Room.Status.LIVE)
    Room.objects.filter(pk=erin_room.pk).update(title="Erin's Kitchen")  # the newest change
    client.force_login(bob)
    page = client.get(reverse("rooms:directory")).content.decode()
    assert page.index("Erin&#x27;s Kitchen") < page.index("Alice&#x27;s Room")
    rooms.follow_room(bob, alice_room)
    page = client.get(reverse("rooms:directory")).content.decode()
    assert page.index("Alice&#x27;s Room") < page.index("Erin&#x27;s Kitchen")
