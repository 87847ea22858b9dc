"""How many simultaneous broadcasters one RTMP ingest process holds, and at what CPU.

N ffmpeg publishers send the same pre-encoded 720p30 H.264/AAC FLV with `-re -c copy`
(real-time pacing, no encoding: what OBS sends, minus the encoder) to one `RtmpServer`
on loopback for about 20 s. The server runs in its own process (this file with
`--serve`), so its CPU time (os.times) is the ingest's alone, not ffmpeg's. Per
connection it counts the FLV bytes handed to the session.

Reported per round:
- realtime: media seconds received (span of FLV tag timestamps) / wall seconds between
  the connection's first and last FLV bytes. 1.00 means the server ingested the stream
  as fast as it was sent; a server that falls behind slows the `-re` publishers down
  (TCP backpressure) and the figure drops below 1.
- kbit/s: FLV bytes received per wall second, per stream (median).
- cores/stream: server CPU seconds / stream-seconds ingested (the sum over connections of
  first-to-last byte), i.e. the share of one core each live stream costs.

    .venv/bin/python bench/bench_rtmp_ingest.py                  # N = 20, 40, 80
    .venv/bin/python bench/bench_rtmp_ingest.py --streams 20 --seconds 10

Traffic goes to 127.0.0.1 only; every ffmpeg stops by itself (`-t`) and is killed if
it overstays. A round that does not hold real time stops the escalation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streaming.rtmp.server import RtmpServer, ServerLimits

SOURCE_SECONDS = 22
HOLDS_REALTIME = 0.97


# --- the server process -----------------------------------------------------------


@dataclass
class CountingSession:
    started: float = field(default_factory=time.monotonic)
    received: int = 0
    first_byte: float = 0.0
    last_byte: float = 0.0
    close_reason: str = ""
    first_timestamp: int | None = None
    last_timestamp: int = 0

    async def on_flv(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.received:
            self.first_byte = now
            data = data[13:]  # the file header and PreviousTagSize0
        self.received += len(data)
        self.last_byte = now
        self._read_timestamps(data)

    def _read_timestamps(self, data: bytes) -> None:
        # The server hands over whole tags, so each batch can be walked on its own.
        position = 0
        while position + 11 <= len(data):
            if data[position] in (8, 9):
                timestamp = int.from_bytes(data[position + 4 : position + 7], "big")
                timestamp |= data[position + 7] << 24
                if self.first_timestamp is None:
                    self.first_timestamp = timestamp
                self.last_timestamp = max(self.last_timestamp, timestamp)
            position += 11 + int.from_bytes(data[position + 1 : position + 4], "big") + 4

    async def on_close(self, reason: str) -> None:
        self.close_reason = reason


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def serve() -> None:
    """Run the server; answer `mark`/`report` lines on stdin with JSON on stdout."""
    sessions: list[CountingSession] = []

    async def authorize(app: str, stream_key: str, peer: str) -> CountingSession:
        session = CountingSession()
        sessions.append(session)
        return session

    server = RtmpServer("127.0.0.1", 0, authorize, ServerLimits(max_connections=500))
    await server.start()
    print(json.dumps({"port": server.port}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line == "mark":
            sessions.clear()
            print(json.dumps({"cpu": cpu_seconds()}), flush=True)
        elif line == "report":
            report = [
                {
                    "bytes": s.received,
                    "seconds": s.last_byte - s.first_byte,
                    "media_seconds": (s.last_timestamp - (s.first_timestamp or 0)) / 1000,
                    "reason": s.close_reason,
                }
                for s in sessions
            ]
            print(json.dumps({"cpu": cpu_seconds(), "sessions": report}), flush=True)
    await server.close()


# --- the driver -------------------------------------------------------------------


def make_source(directory: Path) -> Path:
    source = directory / "source-720p30.flv"
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", str(SOURCE_SECONDS),
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-maxrate", "3M",
        "-bufsize", "6M", "-g", "60", "-c:a", "aac", "-b:a", "128k",
        str(source),
    ]  # fmt: skip
    started = time.monotonic()
    print("$", shlex.join(command), flush=True)
    asyncio.run(_run_checked(command))
    print(f"  source made in {time.monotonic() - started:.1f} s", flush=True)
    return source


async def _run_checked(command: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(*command)
    if await process.wait() != 0:
        raise SystemExit(f"failed: {shlex.join(command)}")


def publish_command(source: Path, port: int, index: int, seconds: float) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-i", str(source), "-t", str(seconds), "-c", "copy",
        "-f", "flv", f"rtmp://127.0.0.1:{port}/bench/stream-{index:03d}",
    ]  # fmt: skip


class ServerProcess:
    async def start(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return (await self.ask(None))["port"]

    async def ask(self, line: str | None) -> dict:
        assert self.process.stdin and self.process.stdout
        if line:
            self.process.stdin.write(line.encode() + b"\n")
            await self.process.stdin.drain()
        async with asyncio.timeout(30):
            return json.loads(await self.process.stdout.readline())

    async def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()


async def run_round(source: Path, streams: int, seconds: float) -> dict:
    server = ServerProcess()
    port = await server.start()
    before = (await server.ask("mark"))["cpu"]
    started = time.monotonic()
    publishers = [
        await asyncio.create_subprocess_exec(*publish_command(source, port, index, seconds))
        for index in range(streams)
    ]
    try:
        async with asyncio.timeout(seconds + 30):
            codes = [await publisher.wait() for publisher in publishers]
    finally:
        for publisher in publishers:
            if publisher.returncode is None:
                publisher.kill()
    await asyncio.sleep(0.5)  # let the last on_close land
    wall = time.monotonic() - started
    report = await server.ask("report")
    await server.stop()
    return {"streams": streams, "wall": wall, "cpu": report["cpu"] - before, "codes": codes,
            "sessions": report["sessions"]}  # fmt: skip


def summarize(result: dict) -> dict:
    sessions = result["sessions"]
    ratios = [s["media_seconds"] / s["seconds"] if s["seconds"] > 0 else 0.0 for s in sessions]
    rates = [s["bytes"] * 8 / s["seconds"] / 1000 if s["seconds"] > 0 else 0.0 for s in sessions]
    streams = result["streams"]
    return {
        "streams": streams,
        "connected": len(sessions),
        "failed_publishers": sum(1 for code in result["codes"] if code != 0),
        "kbps_median": statistics.median(rates) if rates else 0.0,
        "realtime_min": min(ratios, default=0.0),
        "realtime_median": statistics.median(ratios) if ratios else 0.0,
        "server_cpu_s": result["cpu"],
        "wall_s": result["wall"],
        "cpu_per_stream": result["cpu"] / max(sum(s["seconds"] for s in sessions), 1e-9),
        "cpu_total": result["cpu"] / result["wall"],
    }


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'N':>4} {'conn':>5} {'fail':>5} {'kbit/s':>8} {'realtime':>15} "
        f"{'server cpu':>11} {'wall':>6} {'cores/stream':>13} {'cores total':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        realtime = f"{row['realtime_min']:.3f}/{row['realtime_median']:.3f}"
        print(
            f"{row['streams']:>4} {row['connected']:>5} {row['failed_publishers']:>5} "
            f"{row['kbps_median']:>8.0f} {realtime:>15} {row['server_cpu_s']:>10.2f}s "
            f"{row['wall_s']:>5.1f}s {row['cpu_per_stream']:>13.5f} {row['cpu_total']:>12.3f}"
        )
    print("realtime = min/median over streams of media seconds received / wall seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[20, 40, 80])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    if args.seconds > SOURCE_SECONDS - 1:
        raise SystemExit(f"--seconds must be below {SOURCE_SECONDS - 1}")
    print("$", shlex.join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="bench-rtmp-") as directory:
        source = make_source(Path(directory))
        print(f"  source: {source.stat().st_size * 8 / SOURCE_SECONDS / 1000:.0f} kbit/s FLV")
        one_publisher = shlex.join(publish_command(source, 0, 0, args.seconds))
        print("  each publisher:", one_publisher.replace(":0/", ":PORT/"))
        rows = []
        for streams in args.streams:
            print(f"round: {streams} publishers for {args.seconds:g} s ...", flush=True)
            row = summarize(asyncio.run(run_round(source, streams, args.seconds)))
            rows.append(row)
            if row["realtime_min"] < HOLDS_REALTIME or row["failed_publishers"]:
                print("  did not hold real time; not escalating")
                break
    print()
    print_table(rows)
    print(f"machine: {os.cpu_count()} cores; server CPU from os.times() of the --serve process")


if __name__ == "__main__":
    main()
