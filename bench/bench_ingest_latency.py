"""Ingest-to-playlist latency: from a frame entering RTMP to its segment in the playlist.

One `manage.py ingest` (on a throw-away SQLite database and HLS folder) and one ffmpeg
publisher sending 720p30 H.264/AAC in real time (`-re`, a keyframe every second, so
segment cuts are not delayed by the GOP). The room's HLS folder is created when the
publish is authorized, just before the first media tag arrives, so its creation is
taken as media time 0 entering RTMP; with `-re` the last frame of a segment that ends
at media time T then enters at (t0 + T). A poller reads index.m3u8 every 10 ms and
notes when each segment appears. Latency per segment = appeared - (t0 + T_end).

    .venv/bin/python bench/bench_ingest_latency.py                       # 2 s segments
    .venv/bin/python bench/bench_ingest_latency.py --segment-seconds 1 --seconds 30

Reports p50, p95 and max over the segments after the first (whose t0 error is largest).
Passthrough only by default (`--ladder none`); `--ladder 480` adds one encoded rendition.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--segment-seconds", type=int, default=2)
    parser.add_argument("--ladder", default="none")
    parser.add_argument("--port", type=int, default=19399)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "LIVESITE_VAR_DIR": folder,
            "HLS_ROOT": f"{folder}/hls",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "TRANSCODER_LADDER": args.ladder,
            "TRANSCODER_SEGMENT_SECONDS": str(args.segment_seconds),
            "INGEST_RECONNECT_GRACE": "1",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        manage = [sys.executable, "manage.py"]
        run = lambda *a: subprocess.run(  # noqa: E731
            [*manage, *a], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        run("migrate", "-v", "0")
        run("demo")
        key = run("room", "key", "demo-live")
        ingest = subprocess.Popen(
            [*manage, "ingest", "--host", "127.0.0.1", "--port", str(args.port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            ingest.stdout.readline()
            latencies = measure(Path(folder) / "hls" / "demo-live", args, key)
        finally:
            ingest.terminate()
            ingest.wait(timeout=30)
    report(latencies, args)


def measure(output: Path, args, key: str) -> list[float]:
    command = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
            "-f", "lavfi", "-t", str(args.seconds), "-i", "testsrc2=size=1280x720:rate=30",
            "-f", "lavfi", "-t", str(args.seconds), "-i", "sine=frequency=440",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv",
            f"rtmp://127.0.0.1:{args.port}/live/{key}",
    ]  # fmt: skip
    publisher = subprocess.Popen(command)
    while not output.exists():
        time.sleep(0.002)
    t0 = time.monotonic()
    playlist = output / "source" / "index.m3u8"
    seen: dict[int, float] = {}
    durations: dict[int, float] = {}
    while publisher.poll() is None:
        now = time.monotonic()
        if playlist.exists():
            for sequence, duration in segments_of(playlist.read_text()):
                seen.setdefault(sequence, now)
                durations.setdefault(sequence, duration)
        time.sleep(0.01)
    latencies, media_end = [], 0.0
    for sequence in sorted(durations):
        media_end += durations[sequence]
        if sequence != min(durations):
            latencies.append(seen[sequence] - (t0 + media_end))
    return latencies


def segments_of(text: str) -> list[tuple[int, float]]:
    lines = text.splitlines()
    first = next(
        (int(line.split(":")[1]) for line in lines if line.startswith("#EXT-X-MEDIA-SEQUENCE")), 0
    )
    durations = [float(line[8:].split(",")[0]) for line in lines if line.startswith("#EXTINF:")]
    return [(first + index, duration) for index, duration in enumerate(durations)]


def report(latencies: list[float], args) -> None:
    latencies.sort()
    p95 = latencies[max(int(len(latencies) * 0.95) - 1, 0)]
    print(
        f"segments={len(latencies)} segment_seconds={args.segment_seconds} ladder={args.ladder} "
        f"p50={statistics.median(latencies):.3f}s p95={p95:.3f}s max={latencies[-1]:.3f}s"
    )


if __name__ == "__main__":
    main()
