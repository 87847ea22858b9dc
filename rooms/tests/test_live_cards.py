"""The directory shows live rooms with their live thumbnail; the room page knows its HLS."""

import json

import pytest

from rooms import services

pytestmark = pytest.mark.django_db


def test_live_room_card_shows_the_live_thumbnail(client, alice_room):
    services.start_stream(alice_room)
    page = client.get("/").content.decode()
    assert f'src="/hls/{alice_room.slug}/thumbnail.jpg"' in page


def test_offline_room_card_has_no_thumbnail(client, alice_room):
    assert "thumbnail.jpg" not in client.get("/").content.decode()


def test_room_page_gives_the_player_its_master_playlist(client, alice_room):
    response = client.get(alice_room.get_absolute_url())
    config = json.loads(
        response.content.decode()
        .split('id="room-config" type="application/json">')[1]
        .split("<")[0]
    )
    assert config["hlsUrl"] == f"/hls/{alice_room.slug}/master.m3u8"
    assert "stream_key" not in response.content.decode()
