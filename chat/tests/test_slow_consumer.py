"""A client that never reads is closed (4408) and counted; other viewers go on. Real daphne.

Before the cap, Twisted buffered everything such a socket was sent: one daphne grew by
megabytes a second until the ping timeout (bench/bench_slow_consumer.py measures it).
"""

import base64
import json
import os
import socket
import threading
import time
import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from conftest import need_service
from realtime.publish import publish
from tests.support.servers import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

CAP = 65536


def never_reading_socket(base_url: str, path: str) -> socket.socket:
    """A WebSocket handshake on a socket with a tiny receive window, then silence."""
    host = base_url.removeprefix("http://")
    address, port = host.rsplit(":", 1)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((address, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    raw.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {base_url}\r\n\r\n"
        ).encode()
    )
    answer = raw.recv(1024)  # the 101 and maybe the first frames; nothing more is read
    assert answer.startswith(b"HTTP/1.1 101"), answer[:100]
    return raw


class ReadingViewer:
    """A viewer that reads everything, on a thread, as a browser would."""

    def __init__(self, socket_) -> None:
        self.socket = socket_
        self.still_here = threading.Event()
        self.closed_with = None
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        try:
            for text in self.socket:
                frame = json.loads(text)
                events = frame["events"] if frame["type"] == "batch" else [frame]
                if any(event.get("text") == "still here" for event in events):
                    self.still_here.set()
        except Exception as error:
            self.closed_with = error


def slow_consumers_closed(base_url: str) -> float:
    url = f"{base_url}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()  # noqa: S310 -- our server
    for line in text.splitlines():
        if line.startswith("livesite_websocket_slow_consumers_closed_total "):
            return float(line.split()[1])
    return 0.0


def test_a_client_that_never_reads_is_closed_and_counted(alice_room):
    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL))
    need_service("MariaDB (DATABASE_URL)", connection.vendor == "mysql")
    env = {"WEBSOCKET_SEND_BUFFER_BYTES": str(CAP), "REDIS_URL": settings.REDIS_URL}
    with daphne_server(env) as server:
        path = f"/ws/rooms/{alice_room.slug}/"
        stuck = never_reading_socket(server.url, path)
        ws_url = server.url.replace("http://", "ws://") + path
        with connect(ws_url, origin=server.url, open_timeout=10, max_size=None) as reader:
            received = ReadingViewer(reader)
            time.sleep(0.5)  # both sockets joined the room's hub
            notice = {"type": "room.notice", "text": "x" * 50_000}
            deadline = time.monotonic() + 30
            while slow_consumers_closed(server.url) < 1:
                assert time.monotonic() < deadline, "the never-reading socket was not closed"
                for _ in range(40):  # ~2 MB past loopback's socket buffers each round
                    publish(alice_room.pk, notice)
                time.sleep(0.3)
            # The reading viewer is undisturbed: it still gets what the room sends.
            publish(alice_room.pk, {"type": "room.notice", "text": "still here"})
            assert received.still_here.wait(10)
            assert received.closed_with is None
        # The stuck socket's connection was cut (close frame, then abort after 1 s).
        stuck.settimeout(10)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        ended = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if not stuck.recv(1 << 20):
                    ended = True
                    break
            except (ConnectionResetError, TimeoutError):
                ended = True
                break
        stuck.close()
        assert ended
