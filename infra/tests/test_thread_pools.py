"""Gift sends and HLS file reads do not wait for each other's threads.

Before, both ran on the event loop's default executor (six threads here): gift sends
stuck on the database held every thread and a player's segment request waited for them.
"""

import asyncio
import itertools
import os
import threading

import pytest

from chat import services as chat
from gifts import room_socket as gift_socket
from streaming import origin

pytestmark = pytest.mark.django_db  # the send path closes stale connections first

SEGMENT = b"\x47" * 1880
# What the event loop's default executor holds (concurrent.futures' default).
DEFAULT_EXECUTOR_THREADS = min(32, (os.cpu_count() or 1) + 4)


@pytest.fixture
def hls_root(tmp_path, settings):
    settings.HLS_ROOT = tmp_path
    (tmp_path / "alices-room").mkdir()
    (tmp_path / "alices-room" / "seg_0.ts").write_bytes(SEGMENT)
    return tmp_path


def viewer(user_id: int) -> chat.Session:
    return chat.Session(1, "alices-room", None, {"id": user_id}, True, False)


async def test_a_burst_of_stuck_gift_sends_does_not_hold_up_segments(
    hls_root, settings, monkeypatch
):
    release = threading.Event()
    entered = itertools.count()  # next() is atomic under the GIL
    started = []

    def stuck_send(*args):
        started.append(next(entered))
        release.wait(10)  # a gift send waiting on a locked row
        return {}

    monkeypatch.setattr(gift_socket, "_send_gift", stuck_send)
    sends = [
        asyncio.create_task(gift_socket.send_gift(viewer(n), None, None, "rose", 1, f"key-{n}"))
        for n in range(max(settings.GIFTS_SEND_THREADS, DEFAULT_EXECUTOR_THREADS) + 4)
    ]
    try:
        async with asyncio.timeout(5):  # every gift thread is taken
            while len(started) < settings.GIFTS_SEND_THREADS:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        async with asyncio.timeout(2):
            response = await origin.respond("GET", "/hls/alices-room/seg_0.ts", {})
        assert response.status == 200 and response.body == SEGMENT
    finally:
        release.set()
        await asyncio.gather(*sends)
