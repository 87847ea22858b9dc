"""Stream keys: made by the owner, stored hashed, shown to nobody else."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from rooms import services
from rooms.errors import NotAllowed
from rooms.models import Room
from rooms.stream_keys import hash_stream_key

pytestmark = pytest.mark.django_db


def test_it_stores_only_the_hash(alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    alice_room.refresh_from_db()
    assert alice_room.stream_key_hash == hash_stream_key(key)
    assert key not in alice_room.stream_key_hash
    assert len(key) > 40


def test_rotated_key_stops_working_at_once(alice, alice_room):
    old = services.rotate_stream_key(alice_room, alice)
    new = services.rotate_stream_key(alice_room, alice)
    assert services.room_for_stream_key(old) is None
    assert services.room_for_stream_key(new) == alice_room


def test_unknown_and_empty_keys_find_no_room(alice, alice_room):
    services.rotate_stream_key(alice_room, alice)
    assert services.room_for_stream_key("live_nope") is None
    assert services.room_for_stream_key("") is None


def test_only_the_owner_may_rotate(alice_room, bob, carol, dave):
    for user in (bob, carol, dave):
        with pytest.raises(NotAllowed):
            services.rotate_stream_key(alice_room, user)


def test_owner_gets_a_new_key_from_the_dashboard(client, alice, alice_room, password):
    client.login(username="alice", password=password)
    response = client.post(reverse("rooms:stream_key", args=[alice_room.slug]))
    assert response.status_code == 200
    key = response.context["stream_key"]
    assert services.room_for_stream_key(key) == alice_room
    assert key in response.content.decode()
    assert "rtmp://testserver:1935/live" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_dashboard_offers_the_obs_server_but_never_a_key(client, alice, alice_room, password):
    key = services.rotate_stream_key(alice_room, alice)
    client.login(username="alice", password=password)
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert "rtmp://testserver:1935/live" in page
    assert "New stream key" in page
    assert key not in page


def test_moderator_may_not_rotate_the_key(client, alice_room, carol, password):
    client.login(username="carol", password=password)
    response = client.post(reverse("rooms:stream_key", args=[alice_room.slug]))
    assert response.status_code == 403


def test_owner_rotates_through_the_api(client, alice, alice_room, password):
    client.login(username="alice", password=password)
    response = client.post(f"/api/rooms/{alice_room.slug}/stream-key/")
    assert response.status_code == 200
    assert services.room_for_stream_key(response.json()["stream_key"]) == alice_room
    assert response.json()["server_url"] == "rtmp://testserver:1935/live"


def test_another_user_cannot_rotate_through_the_api(client, alice_room, bob, password):
    client.login(username="bob", password=password)
    assert client.post(f"/api/rooms/{alice_room.slug}/stream-key/").status_code == 403


def test_api_room_details_never_carry_the_key(client, alice, alice_room, password):
    key = services.rotate_stream_key(alice_room, alice)
    client.login(username="alice", password=password)
    body = client.get(f"/api/rooms/{alice_room.slug}/").content.decode()
    assert key not in body and "stream_key" not in body


def test_broadcaster_creates_a_room_through_the_api(client, alice, password):
    client.login(username="alice", password=password)
    response = client.post("/api/rooms/", {"title": "Night Jazz"}, content_type="application/json")
    assert response.status_code == 201
    assert Room.objects.get(slug=response.json()["slug"]).owner == alice


def test_viewer_cannot_create_a_room_through_the_api(client, bob, password):
    client.login(username="bob", password=password)
    response = client.post("/api/rooms/", {"title": "Mine"}, content_type="application/json")
    assert response.status_code == 403


def test_room_create_command_prints_the_slug(alice, capsys):
    call_command("room", "create", "alice", "Late Show")
    slug = capsys.readouterr().out.strip()
    assert Room.objects.get(slug=slug).title == "Late Show"


def test_room_key_command_rotates_and_prints_the_key(alice_room, capsys):
    call_command("room", "key", alice_room.slug)
    key = capsys.readouterr().out.strip()
    assert services.room_for_stream_key(key) == alice_room


def test_obs_server_url_uses_the_page_host_without_its_port(rf, settings):
    from rooms.ingest_address import obs_server_url

    settings.ALLOWED_HOSTS = ["live.example", "[::1]"]
    assert (
        obs_server_url(rf.get("/", HTTP_HOST="live.example:8000"))
        == "rtmp://live.example:1935/live"
    )
    assert obs_server_url(rf.get("/", HTTP_HOST="[::1]:8000")) == "rtmp://[::1]:1935/live"
    settings.INGEST_PUBLIC_URL = "rtmp://ingest.example/live"
    assert obs_server_url(rf.get("/", HTTP_HOST="live.example")) == "rtmp://ingest.example/live"
