from django.urls import reverse

from rooms.models import Room


def test_the_directory_says_when_nobody_is_live(client, alice_room):
    page = client.get(reverse("rooms:directory")).content.decode()
    assert "Nobody is live right now" in page
    assert "Alice&#x27;s Room" in page


def test_the_directory_lists_live_rooms_first(client, alice_room):
    Room.objects.filter(pk=alice_room.pk).update(status=Room.Status.LIVE)
    page = client.get(reverse("rooms:directory")).content.decode()
    assert "Nobody is live" not in page
    assert "LIVE" in page


def test_the_room_page_shows_an_offline_room(client, alice_room):
    response = client.get(alice_room.get_absolute_url())
    assert response.status_code == 200
    assert "is offline" in response.content.decode()


def test_an_unknown_room_is_404(client, db):
    assert client.get(reverse("rooms:room", args=["nope"])).status_code == 404


def test_the_layout_fits_a_phone(client, db):
    page = client.get(reverse("rooms:directory")).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page


def test_the_room_api_is_public_and_hides_no_secret(client, alice_room):
    body = client.get(reverse("api-room", args=[alice_room.slug])).json()
    assert body["title"] == "Alice's Room"
    assert body["owner"] == "alice"
    assert "email" not in str(body)


def test_moderators_get_the_in_room_tools_and_viewers_do_not(client, alice_room, carol, bob):
    client.force_login(carol)
    assert "data-moderation-tools" in client.get(alice_room.get_absolute_url()).content.decode()
    client.force_login(bob)
    assert "data-moderation-tools" not in client.get(alice_room.get_absolute_url()).content.decode()


def test_a_viewer_follows_and_unfollows_from_the_room_page(client, alice_room, bob):
    from rooms import services

    client.force_login(bob)
    assert "+ Follow" in client.get(alice_room.get_absolute_url()).content.decode()
    client.post(reverse("rooms:follow", args=[alice_room.slug]))
    assert services.is_following(bob.pk, alice_room.pk)
    assert "✓ Following" in client.get(alice_room.get_absolute_url()).content.decode()
    client.post(reverse("rooms:follow", args=[alice_room.slug]), {"unfollow": "1"})
    assert not services.is_following(bob.pk, alice_room.pk)
