"""The header bell, the notifications page and each room's all/none choice."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from rooms.models import Follow

pytestmark = pytest.mark.django_db


@pytest.fixture
def erin_client(client, erin, password):
    client.login(username="erin", password=password)
    return client


def test_the_header_bell_shows_the_unread_count(erin_client, go_live):
    go_live()
    response = erin_client.get("/")
    assert b'aria-label="Notifications, 1 unread"' in response.content
    assert b"js/notifications/bell.js" in response.content


def test_visitors_have_no_bell(client):
    response = client.get("/")
    assert b"data-bell" not in response.content


def test_the_notifications_page_lists_and_reads_them(erin_client, erin, alice_room, go_live):
    go_live()
    response = erin_client.get(reverse("notifications:list"))
    assert response.status_code == 200
    assert b"went live" in response.content and b"Alice&#x27;s Room" in response.content
    assert b'class="notification unread"' in response.content
    assert not Notification.objects.filter(user=erin, read_at=None).exists()
    assert b'aria-label="Notifications, 0 unread"' in erin_client.get("/").content


def test_the_notifications_page_needs_sign_in(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_follower_turns_a_rooms_notifications_off_from_its_page(erin_client, erin, alice_room):
    page = erin_client.get(alice_room.get_absolute_url())
    assert b"data-follow-notify" in page.content and "🔔 Notifying".encode() in page.content
    response = erin_client.post(
        reverse("notifications:room", args=[alice_room.slug]), {"notify": "none"}
    )
    assert response.status_code == 302
    assert Follow.objects.get(user=erin, room=alice_room).notify == "none"
    assert "🔕 Notify me".encode() in erin_client.get(alice_room.get_absolute_url()).content


def test_a_non_follower_cannot_choose(client, bob, password, alice_room):
    client.login(username="bob", password=password)
    response = client.post(
        reverse("notifications:room", args=[alice_room.slug]), {"notify": "none"}, follow=True
    )
    assert b"Follow the room first." in response.content
    assert not Follow.objects.filter(user=bob).exists()


def test_a_hostile_choice_is_refused(erin_client, erin, alice_room):
    response = erin_client.post(
        reverse("notifications:room", args=[alice_room.slug]), {"notify": "x" * 10000}, follow=True
    )
    assert b"Choose one of: all, none." in response.content
    assert Follow.objects.get(user=erin).notify == "all"
