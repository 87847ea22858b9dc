"""A ban takes effect at once on a socket another daphne process serves.

Two real `daphne` processes share Redis (channel layer, restriction cache) and
the test database: carol bans bob through her socket on one, and bob's socket
on the other closes with 4403. Needs Redis and MariaDB (a daphne process
cannot see SQLite's in-memory test database).
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from conftest import need_service
from moderation import services
from tests.support.servers import database_url_of_test_database, stop_process

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"daphne on port {port} did not listen")


@pytest.fixture
def web_processes(settings, tmp_path):
    """Two daphne processes on the test database and this test's Redis key prefix."""
    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL))
    need_service(
        "MariaDB (DATABASE_URL)",
        connection.vendor == "mysql",
        "a daphne process cannot share SQLite's in-memory test database",
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_database(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "LOG_LEVEL": "WARNING",
    }
    processes, ports = [], []
    try:
        for _ in range(2):
            port = free_port()
            log = (tmp_path / f"daphne-{port}.log").open("w")
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
            processes.append(
                subprocess.Popen(
                    [*command, "livesite.asgi:application"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            ports.append(port)
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process)
        yield ports
    finally:
        for process in processes:
            process.terminate()  # all at once, then wait for each
        for process in processes:
            stop_process(process, timeout=10)


def session_cookie(user) -> str:
    """A logged-in session as the log-in view makes it, saved where daphne reads it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def room_socket(port: int, room, cookie: str):
    return connect(
        f"ws://127.0.0.1:{port}/ws/rooms/{room.slug}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        open_timeout=TIMEOUT,
    )


async def next_of(websocket, frame_type: str) -> dict:
    """The next event of `frame_type`, looking inside batches."""
    seen = []
    async with asyncio.timeout(TIMEOUT):
        while True:
            try:
                frame = json.loads(await websocket.recv())
            except ConnectionClosed as closed:
                code = closed.rcvd and closed.rcvd.code
                raise AssertionError(f"closed ({code}) before {frame_type}; saw {seen}") from None
            for event in frame["events"] if frame["type"] == "batch" else [frame]:
                if event["type"] == frame_type:
                    return event
                seen.append(event["type"])


async def close_code(websocket) -> int:
    async with asyncio.timeout(TIMEOUT):
        try:
            while True:
                await websocket.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code


@pytest.mark.django_db(transaction=True)
def test_a_ban_closes_a_socket_served_by_another_web_process(web_processes, alice_room, bob, carol):
    bobs_process, carols_process = web_processes
    bob_cookie, carol_cookie = session_cookie(bob), session_cookie(carol)

    async def scenario() -> dict:
        async with room_socket(bobs_process, alice_room, bob_cookie) as viewer:
            assert (await next_of(viewer, "hello"))["user"]["id"] == bob.pk
            async with room_socket(carols_process, alice_room, carol_cookie) as moderator:
                assert (await next_of(moderator, "hello"))["can_moderate"] is True
                await moderator.send(json.dumps({"type": "mod.ban", "user_id": bob.pk}))
                await next_of(moderator, "mod.done")
                banned_at = time.monotonic()
                code = await close_code(viewer)
                took = time.monotonic() - banned_at
        # Each process hears the ban on its own; a socket a process opens before it has
        # heard is closed too (right for a banned user, but not what this part tests).
        await asyncio.sleep(1.0)
        # Back on either process: watching is allowed, chatting is not.
        refusals = []
        for port in web_processes:
            async with room_socket(port, alice_room, bob_cookie) as again:
                assert (await next_of(again, "hello"))["can_chat"] is False
                await again.send(json.dumps({"type": "chat.send", "text": "hi", "nonce": "1"}))
                refusals.append((await next_of(again, "error"))["code"])
        return {"code": code, "took": took, "refusals": refusals}

    outcome = asyncio.run(scenario())
    assert outcome["code"] == 4403
    assert outcome["took"] < 2, outcome
    assert outcome["refusals"] == ["restricted", "restricted"]
    assert services.is_restricted(bob.pk, alice_room.pk)  # and so says this process
