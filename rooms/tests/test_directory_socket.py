"""The directory socket: open directory pages hear of a room going live or offline."""

import logging

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction

from livesite.routing import websocket_urlpatterns
from rooms import directory_feed, services

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


@pytest.fixture
async def directory_page():
    """An open directory page's socket; closed, with the layer's pools, at the end."""
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/directory/")
    connected, _ = await communicator.connect(TIMEOUT)
    assert connected
    yield communicator
    await communicator.disconnect(timeout=2)
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


def announce_and_commit(room) -> None:
    with transaction.atomic():
        directory_feed.announce(room)


async def test_an_announced_room_reaches_open_directory_pages(directory_page, alice_room):
    await database_sync_to_async(announce_and_commit)(alice_room)
    frame = await directory_page.receive_json_from(TIMEOUT)
    assert frame == {"type": "room.status", "room": alice_room.slug, "status": "offline",
                     "stream": None}  # fmt: skip


async def test_a_room_going_live_and_ending_reaches_open_directory_pages(
    directory_page, alice_room
):
    stream = await database_sync_to_async(services.start_stream)(alice_room)
    live = await directory_page.receive_json_from(TIMEOUT)
    assert live == {"type": "room.status", "room": alice_room.slug, "status": "live",
                    "stream": stream.pk}  # fmt: skip
    await database_sync_to_async(services.end_stream)(alice_room)
    ended = await directory_page.receive_json_from(TIMEOUT)
    assert ended["status"] == "ended" and ended["stream"] is None


async def test_nothing_is_announced_when_the_change_rolls_back(directory_page, alice_room):
    def announce_and_roll_back():
        with transaction.atomic():
            directory_feed.announce(alice_room)
            transaction.set_rollback(True)

    await database_sync_to_async(announce_and_roll_back)()
    assert await directory_page.receive_nothing(0.5)


async def test_frames_from_the_page_are_ignored(directory_page, alice_room):
    await directory_page.send_to(text_data='{"type": "chat.send", "text": "hi"}')
    assert await directory_page.receive_nothing(0.3)
    await database_sync_to_async(announce_and_commit)(alice_room)
    assert (await directory_page.receive_json_from(TIMEOUT))["room"] == alice_room.slug


def test_a_channel_layer_that_is_down_costs_a_log_line_not_the_change(
    alice_room, monkeypatch, caplog
):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(directory_feed, "get_channel_layer", BrokenLayer)
    with caplog.at_level(logging.ERROR, logger="rooms.directory_feed"):
        stream = services.start_stream(alice_room)  # commits: the announcement is sent
    assert stream.pk and alice_room.streams.filter(pk=stream.pk).exists()
    assert "could not announce" in caplog.text
