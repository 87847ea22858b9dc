"""What a room socket keeps while it is open: who its viewer is, and little else.

A web process holds thousands of these (bench/bench_socket_memory.py measures the
bytes); these tests pin down the shape that keeps them cheap, and that the
handshake still knows who is behind the socket.
"""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from chat.hub import stop_process_hub
from realtime.redis_client import close_redis

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://localhost")


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def hello_through_the_site(room, cookie: bytes | None = None) -> dict:
    """Open a socket through the whole site stack (origin check, cookies, session, user)."""
    from livesite.asgi import application

    headers = [ORIGIN] + ([(b"cookie", cookie)] if cookie is not None else [])
    socket = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=headers)
    connected, _ = await socket.connect(5)
    assert connected
    try:
        while True:
            frame = json.loads(await socket.receive_from(5))
            if frame["type"] == "hello":
                return frame
    finally:
        await socket.disconnect()
        await stop_process_hub()
        await close_redis()


async def test_a_signed_in_viewer_is_known_by_their_session_cookie(alice_room, bob):
    cookie = await database_sync_to_async(session_cookie)(bob)
    hello = await hello_through_the_site(alice_room, cookie)
    assert hello["user"]["name"] == "bob" and hello["can_chat"] is True


@pytest.mark.parametrize(
    "cookie",
    [
        None,
        b"sessionid=not-a-session",
        b"sessionid=",
        b"sessionid=\xff\xfe; =; ;;=x",
        b"sessionid=" + b"a" * 150,
        b"\x00\x01garbage",
    ],
)
async def test_without_a_valid_session_the_viewer_is_anonymous(alice_room, cookie):
    hello = await hello_through_the_site(alice_room, cookie)
    assert hello["user"] is None and hello["can_chat"] is False


async def test_an_open_socket_runs_no_task_beside_its_application(alice_room):
    from livesite.asgi import application

    before = len(asyncio.all_tasks())
    sockets = []
    for _ in range(10):
        socket = WebsocketCommunicator(
            application, f"/ws/rooms/{alice_room.slug}/", headers=[ORIGIN]
        )
        connected, _ = await socket.connect(5)
        assert connected
        sockets.append(socket)
    try:
        await asyncio.sleep(0.1)  # whatever a socket starts after its handshake has started
        # The communicator runs each application in one task; the hub's few are per process.
        assert len(asyncio.all_tasks()) - before <= 10 + 5
    finally:
        for socket in sockets:
            await socket.disconnect()
        await stop_process_hub()
        await close_redis()
