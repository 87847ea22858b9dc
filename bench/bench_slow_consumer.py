"""Memory of a daphne serving a room socket whose client never reads, with and without the cap.

Two real daphne processes run side by side on one throw-away SQLite database and the
given Redis (each under its own key prefix, so each has its own room channel):

- capped: WEBSOCKET_SEND_BUFFER_BYTES as configured (default 1 MiB);
- baseline: the cap set out of reach (1 TB), which is how every socket behaved before.

Each gets one anonymous room socket that completes the WebSocket handshake and then
never reads (receive buffer 4 KiB), plus one viewer that reads everything. The bench
then publishes RATE MB/s of room events to both rooms for SECONDS seconds and samples
each daphne's resident memory (VmRSS) once a second. Reported: RSS growth over the run
for each process, whether the stuck socket was closed (its close code is 4408 when it
is), and the reader's frame count (the room kept working).

    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/bench_slow_consumer.py
    REDIS_URL=... .venv/bin/python bench/bench_slow_consumer.py --seconds 20 --rate 4
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE_ROOM = """
from accounts.models import User
from accounts import services as accounts
from rooms import services
owner = accounts.enable_broadcasting(User.objects.create_user("bench", password="x"))
print(services.create_room(owner, "Bench room").pk)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def start_daphne(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
               "livesite.asgi:application"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    raise RuntimeError("daphne did not start")


def never_reading_socket(port: int, slug: str) -> socket.socket:
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    host = f"127.0.0.1:{port}"
    raw.sendall(
        (
            f"GET /ws/rooms/{slug}/ HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n\r\n"
        ).encode()
    )
    if not raw.recv(1024).startswith(b"HTTP/1.1 101"):
        raise RuntimeError("the WebSocket handshake failed")
    return raw


def is_closed(raw: socket.socket) -> bool:
    """Drain what is left; True once the server closed or reset the connection."""
    raw.setblocking(False)
    try:
        while True:
            data = raw.recv(1 << 20)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def read_all(port: int, slug: str, counts: dict, key: str) -> None:
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{port}/ws/rooms/{slug}/"
    try:
        with connect(url, origin=f"http://127.0.0.1:{port}", max_size=None) as reader:
            for _ in reader:
                counts[key] += 1
    except Exception:  # the server stopping at the end of the run
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=float, default=4.0, help="MB/s of room events")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        sys.exit("REDIS_URL is required: room events travel on Redis pub/sub")
    import redis

    client = redis.Redis.from_url(redis_url)
    with tempfile.TemporaryDirectory() as folder:
        base = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING", "REDIS_URL": redis_url,
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3"}  # fmt: skip
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=base,
                       check=True)  # fmt: skip
        made = subprocess.run([sys.executable, "manage.py", "shell", "-c", MAKE_ROOM], cwd=ROOT,
                              env=base, check=True, capture_output=True, text=True)  # fmt: skip
        room_id = int(made.stdout.split()[-1])
        variants = {
            "capped": {"WEBSOCKET_SEND_BUFFER_BYTES": os.environ.get(
                "WEBSOCKET_SEND_BUFFER_BYTES", str(1024 * 1024))},
            "baseline": {"WEBSOCKET_SEND_BUFFER_BYTES": str(10**12)},
        }  # fmt: skip
        servers = {}
        for name, extra in variants.items():
            prefix = f"bench-slow-{name}-{os.getpid()}"
            port = free_port()
            env = {**base, **extra, "REDIS_KEY_PREFIX": prefix}
            servers[name] = (start_daphne(env, port), port, f"{prefix}:room:{room_id}")
        counts = {name: 0 for name in servers}
        try:
            stuck = {name: never_reading_socket(port, "bench-room")
                     for name, (_, port, _) in servers.items()}  # fmt: skip
            for name, (_, port, _) in servers.items():
                threading.Thread(target=read_all, args=(port, "bench-room", counts, name),
                                 daemon=True).start()  # fmt: skip
            time.sleep(1.0)
            start = {name: rss_bytes(process.pid) for name, (process, _, _) in servers.items()}
            peak = dict(start)
            event = json.dumps({"type": "room.notice", "text": "x" * 50_000})
            per_second = max(1, int(args.rate * 1_000_000 / len(event)))
            for _ in range(args.seconds):
                began = time.monotonic()
                for _ in range(per_second):
                    for _, _, channel in servers.values():
                        client.publish(channel, event)
                for name, (process, _, _) in servers.items():
                    peak[name] = max(peak[name], rss_bytes(process.pid))
                time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
            time.sleep(2.0)  # the close handshake's 1 s timeout, then the abort
            print(f"{args.seconds} s at {args.rate:g} MB/s of room events, one never-reading "
                  f"socket and one reader per daphne")  # fmt: skip
            for name, (process, _, _) in servers.items():
                end = rss_bytes(process.pid)
                print(
                    f"{name:9} RSS start {start[name] / 2**20:6.1f} MiB  peak "
                    f"{peak[name] / 2**20:6.1f} MiB  end {end / 2**20:6.1f} MiB  "
                    f"growth {(end - start[name]) / 2**20:+6.1f} MiB  "
                    f"stuck socket closed: {is_closed(stuck[name])}  reader frames: {counts[name]}"
                )
        finally:
            for process, _, _ in servers.values():
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    main()
