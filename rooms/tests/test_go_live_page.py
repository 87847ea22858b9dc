"""The go-live page and the WHIP address beside RTMP's: only the owner may publish."""

import pytest

from rooms import services
from rooms.models import Room

pytestmark = pytest.mark.django_db


def go_live_url(room) -> str:
    return f"/rooms/{room.slug}/go-live/"


def test_only_the_owner_opens_the_go_live_page(client, alice_room, alice, bob, carol, dave):
    services.rotate_stream_key(alice_room, alice)
    assert client.get(go_live_url(alice_room)).status_code == 302  # to the log-in page
    for person, expected in ((bob, 403), (carol, 403), (dave, 403), (alice, 200)):
        client.force_login(person)
        assert client.get(go_live_url(alice_room)).status_code == expected, person


def test_the_page_carries_a_go_live_token_for_her_room(client, alice, alice_room):
    services.rotate_stream_key(alice_room, alice)
    client.force_login(alice)
    response = client.get(go_live_url(alice_room))
    config = response.context["go_live_config"]
    assert config["whipUrl"] == "http://testserver/whip/"
    assert services.room_for_publish_credential(config["token"]) == alice_room
    assert b'data-testid="go-live"' in response.content


def test_a_rotated_key_ends_the_go_live_token(alice, alice_room):
    services.rotate_stream_key(alice_room, alice)
    token = services.go_live_token(alice_room, alice)
    services.rotate_stream_key(alice_room, alice)
    assert services.room_for_publish_credential(token) is None


def test_a_forged_go_live_token_publishes_nowhere(alice, alice_room):
    services.rotate_stream_key(alice_room, alice)
    token = services.go_live_token(alice_room, alice)
    assert services.room_for_publish_credential(token[:-2] + "xx") is None
    assert services.room_for_publish_credential("golive_garbage") is None


def test_a_room_without_a_key_asks_for_one(client, alice, alice_room):
    Room.objects.filter(pk=alice_room.pk).update(stream_key_hash="")
    client.force_login(alice)
    response = client.get(go_live_url(alice_room))
    assert b"no stream key yet" in response.content
    assert b'data-testid="go-live"' not in response.content


def test_the_dashboard_shows_the_whip_address_beside_rtmp(client, alice, alice_room):
    client.force_login(alice)
    page = client.get("/accounts/dashboard/").content.decode()
    assert "rtmp://testserver:" in page
    assert 'value="http://testserver/whip/"' in page
    # What OBS 30+ needs, beside RTMP's server and key.
    assert "Service “WHIP”" in page and "Bearer Token" in page
    assert go_live_url(alice_room) in page


def test_the_stream_manager_shows_obs_whip_settings_beside_rtmp(client, alice, alice_room):
    services.rotate_stream_key(alice_room, alice)
    client.force_login(alice)
    page = client.get(f"/rooms/{alice_room.slug}/manage/").content.decode()
    assert "rtmp://testserver:" in page and 'value="http://testserver/whip/"' in page
    assert "Service “WHIP”" in page and "Bearer Token" in page
