"""Two daphne processes on one real Redis: viewers on each see each other, and the counts agree."""

import asyncio
import json
import time

import pytest
import websockets
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from conftest import need_service
from tests.support.servers import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class Viewer:
    def __init__(self, socket):
        self.socket = socket
        self.events: list[dict] = []

    async def expect(self, frame_type: str, timeout: float = 10, **match) -> dict:
        async def find():
            while True:
                for index, event in enumerate(self.events):
                    if event["type"] == frame_type and all(
                        event.get(k) == v for k, v in match.items()
                    ):
                        return self.events.pop(index)
                frame = json.loads(await self.socket.recv())
                self.events.extend(frame["events"] if frame["type"] == "batch" else [frame])

        return await asyncio.wait_for(find(), timeout)


async def join(base_url: str, room, cookie: str | None = None) -> Viewer:
    headers = {"Cookie": cookie} if cookie else {}
    socket = await websockets.connect(
        base_url.replace("http", "ws") + f"/ws/rooms/{room.slug}/",
        origin=base_url,
        additional_headers=headers,
    )
    return Viewer(socket)


def test_viewers_on_two_processes_see_each_other(alice_room, bob, carol):
    need_service(
        "Redis (REDIS_URL)", bool(settings.REDIS_URL), "room events cross processes through Redis"
    )
    bob_cookie, carol_cookie = session_cookie(bob), session_cookie(carol)

    async def scenario(first_url, second_url):
        on_first = await join(first_url, alice_room, bob_cookie)
        on_second = await join(second_url, alice_room, carol_cookie)
        anonymous = await join(second_url, alice_room)
        try:
            for viewer in (on_first, on_second):
                await viewer.expect("presence.count", viewers=3, logged_in=2)
            await on_first.socket.send(
                json.dumps({"type": "chat.send", "text": "from one", "nonce": "a"})
            )
            await on_second.socket.send(
                json.dumps({"type": "chat.send", "text": "from two", "nonce": "b"})
            )
            for viewer in (on_first, on_second, anonymous):
                assert (await viewer.expect("chat.message", nonce="a"))["text"] == "from one"
                assert (await viewer.expect("chat.message", nonce="b"))["text"] == "from two"
            await anonymous.socket.close()
            await on_first.expect("presence.count", viewers=2, logged_in=2)
        finally:
            for viewer in (on_first, on_second, anonymous):
                await viewer.socket.close()

    with daphne_server() as first, daphne_server() as second:
        asyncio.run(scenario(first.url, second.url))


def test_a_killed_process_leaves_the_audience_within_a_minute(alice_room):
    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL), "presence is shared through Redis")
    ttl = 6  # seconds; production's default is 45

    async def scenario(survivor, doomed):
        watcher = await join(survivor.url, alice_room)
        sockets = [await join(doomed.url, alice_room) for _ in range(2)]
        await watcher.expect("presence.count", viewers=3)
        doomed.process.kill()  # a crash: no clean disconnects, no snapshot removal
        watcher.events.clear()
        killed_at = time.monotonic()
        await watcher.expect("presence.count", timeout=ttl + 10, viewers=1)
        assert time.monotonic() - killed_at >= ttl - 3  # it was the expiry, not a clean leave
        await watcher.socket.close()
        assert len(sockets) == 2

    env = {"CHAT_PRESENCE_TTL": str(ttl)}
    with daphne_server(env) as survivor, daphne_server(env) as doomed:
        asyncio.run(scenario(survivor, doomed))
