"""Open sockets learn within seconds that their user lost rights: the server closes them
with 4401 and the client reconnects with what the user may do now."""

import time

import pytest
from channels.db import database_sync_to_async

from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)
sync = database_sync_to_async
CLOSE_RIGHTS_CHANGED = 4401


async def close_code(client, timeout: float = 5) -> int:
    deadline = time.monotonic() + timeout
    while True:
        output = await client.communicator.receive_output(max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            return output["code"]


def save(user, **changes):
    for field, value in changes.items():
        setattr(user, field, value)
    user.save()


async def test_a_deactivated_users_sockets_close(open_socket, alice_room, bob):
    viewer = await open_socket(alice_room, bob)
    await viewer.expect("hello")
    await sync(save)(bob, is_active=False)
    assert await close_code(viewer) == CLOSE_RIGHTS_CHANGED


async def test_staff_who_lose_staff_lose_their_open_moderator_sockets(
    open_socket, alice_room, dave
):
    socket = await open_socket(alice_room, dave)
    assert (await socket.expect("hello"))["can_moderate"] is True
    await sync(save)(dave, is_staff=False)
    assert await close_code(socket) == CLOSE_RIGHTS_CHANGED


async def test_a_removed_moderators_socket_closes(open_socket, alice_room, alice, carol):
    socket = await open_socket(alice_room, carol)
    assert (await socket.expect("hello"))["can_moderate"] is True
    await sync(rooms.remove_moderator)(alice_room, alice, carol)
    assert await close_code(socket) == CLOSE_RIGHTS_CHANGED


async def test_a_profile_change_keeps_the_socket_open(open_socket, alice_room, bob):
    viewer = await open_socket(alice_room, bob)
    await viewer.expect("hello")
    await sync(save)(bob, display_name="Bobby")
    await viewer.send({"type": "ping"})
    await viewer.expect("pong")
