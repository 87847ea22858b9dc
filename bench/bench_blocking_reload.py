"""Blocked LL-HLS playlist requests held by one web process, and the cost of waking them.

Writes one rendition's live playlist into a temporary HLS_ROOT, starts one
``daphne livesite.asgi:application`` and opens ``--clients`` connections that each ask
for the next part (``?_HLS_msn=4&_HLS_part=1``), which does not exist yet. Once all are
held it reads the process's CPU time (``/proc/<pid>/stat``) over ``--hold`` seconds,
then publishes the part (renames a new playlist into place, as the transcoder does) and
measures how long until every client has its answer and the CPU that took.

    .venv/bin/python bench/bench_blocking_reload.py --clients 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streaming.tests.test_blocking_reload import live_playlist  # noqa: E402

QUERY = "/hls/room/source/index.m3u8?_HLS_msn=4&_HLS_part=1"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def ask(port: int, held: list) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {QUERY} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    held.append(1)
    status = await reader.readline()
    await reader.read()
    writer.close()
    assert b" 200 " in status, status
    return time.monotonic()


async def run(port: int, folder: Path, pid: int, clients: int, hold: float) -> None:
    held: list = []
    tasks = [asyncio.ensure_future(ask(port, held)) for _ in range(clients)]
    while len(held) < clients:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # every request has reached the origin and is waiting
    before = cpu_seconds(pid)
    await asyncio.sleep(hold)
    holding = cpu_seconds(pid) - before
    assert not any(task.done() for task in tasks), "a request was answered before the part"
    before = cpu_seconds(pid)
    published = time.monotonic()
    temporary = folder / ".index.m3u8.tmp"
    temporary.write_text(live_playlist(4, 2, target=4))
    os.replace(temporary, folder / "index.m3u8")
    answered = await asyncio.gather(*tasks)
    await asyncio.sleep(0.2)
    waking = cpu_seconds(pid) - before
    print(
        f"clients={clients} held CPU={holding / hold * 100:.1f}% of a core over {hold:.0f} s; "
        f"after the part: first answer {min(answered) - published:.3f} s, "
        f"last {max(answered) - published:.3f} s, CPU {waking:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=18520)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients)), hard))
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory) / "hls" / "room" / "source"
        folder.mkdir(parents=True)
        (folder / "index.m3u8").write_text(live_playlist(4, 1, target=4))
        env = {**os.environ, "HLS_ROOT": str(Path(directory) / "hls"), "LOG_LEVEL": "WARNING"}
        env.pop("REDIS_URL", None)
        env["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
        web = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(args.port),
             "livesite.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(4)
            asyncio.run(run(args.port, folder, web.pid, args.clients, args.hold))
        finally:
            web.terminate()
            web.wait(timeout=20)


if __name__ == "__main__":
    main()
