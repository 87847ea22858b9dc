"""The bell's count reaches every open page of the follower over the directory socket."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction

from livesite.asgi import application  # noqa: F401 -- settles Django before the router
from livesite.routing import websocket_urlpatterns
from notifications import services
from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


async def open_directory_socket(user=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/directory/")
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect(TIMEOUT)
    assert connected
    return communicator


def go_live_and_commit(room):
    with transaction.atomic():
        return rooms.start_stream(room)


async def frames_until(communicator, frame_type: str) -> dict:
    while True:
        frame = await communicator.receive_json_from(TIMEOUT)
        if frame["type"] == frame_type:
            return frame


async def test_a_followers_open_page_hears_the_room_go_live(erin, alice_room):
    page = await open_directory_socket(erin)
    try:
        await database_sync_to_async(go_live_and_commit)(alice_room)
        frame = await frames_until(page, "notifications.unread")
        assert frame["unread"] == 1
        assert frame["latest"] == {
            "kind": "go_live",
            "room": alice_room.slug,
            "title": alice_room.title,
            "broadcaster": "alice",
            "url": f"/rooms/{alice_room.slug}/",
        }
    finally:
        await page.disconnect()
        await _close_layer()


async def test_reading_on_one_page_clears_the_bell_on_the_others(erin, alice_room):
    await database_sync_to_async(go_live_and_commit)(alice_room)
    page = await open_directory_socket(erin)
    try:

        def read_all():
            with transaction.atomic():
                return services.mark_all_read(erin)

        assert await database_sync_to_async(read_all)() == 1
        frame = await frames_until(page, "notifications.unread")
        assert frame == {"type": "notifications.unread", "unread": 0, "latest": None}
    finally:
        await page.disconnect()
        await _close_layer()


async def test_a_visitors_page_hears_nobodys_notifications(erin, alice_room):
    page = await open_directory_socket()
    try:
        await database_sync_to_async(go_live_and_commit)(alice_room)
        status = await page.receive_json_from(TIMEOUT)
        assert status["type"] == "room.status"
        assert await page.receive_nothing(0.5)
    finally:
        await page.disconnect()
        await _close_layer()


async def _close_layer():
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


async def test_followers_without_an_open_page_cost_no_group_send(
    erin, bob, alice_room, monkeypatch
):
    """100,000 followers, a few hundred online: only those get a frame."""
    from rooms import directory_feed
    from rooms import services as room_services

    await database_sync_to_async(room_services.follow_room)(bob, alice_room)
    page = await open_directory_socket(erin)
    sent_to = []
    layer = get_channel_layer()
    real_group_send = layer.group_send

    async def counting_group_send(group, message):
        sent_to.append(group)
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", counting_group_send)
    try:
        await database_sync_to_async(go_live_and_commit)(alice_room)
        await frames_until(page, "notifications.unread")
        personal = [group for group in sent_to if group.startswith("directory.user.")]
        assert personal == [directory_feed.user_group(erin.pk)]
    finally:
        await page.disconnect()
        await _close_layer()
    assert await database_sync_to_async(directory_feed.online_users)([erin.pk, bob.pk]) == set()
