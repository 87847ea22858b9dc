"""N broadcasters at once through the whole ingest: RTMP, key checks, one transcoder each.

bench/bench_rtmp_ingest.py measures the RTMP server alone; this runs the real
`manage.py ingest` (throw-away SQLite database and HLS folder, no Redis) with one
transcoder process per live room, as production does, and N ffmpeg publishers sending
the same 720p30 H.264/AAC source (3 Mbit/s, 2 s GOP) in real time (`-re -c copy`).

Every 0.5 s it reads each room's `recording.log` (one line per published segment) and
notes how far the room's published media is behind the wall clock since its publisher
started. A stream held in real time stays about one segment plus one GOP behind (a
segment is published when the keyframe after it arrives); one that falls behind drifts
further. Reported per N: streams that failed, "behind" at the end of publishing (min,
median, max), and the CPU of the ingest with all its transcoders (from /proc), total
and per stream.

    .venv/bin/python bench/bench_ingest_streams.py                  # N = 20 and 30, passthrough
    .venv/bin/python bench/bench_ingest_streams.py --streams 20 --ladder 360
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAKE_ROOMS = """
from accounts.models import User
from rooms import services
owner, _ = User.objects.get_or_create(username="bench", defaults={{"is_broadcaster": True}})
owner.is_broadcaster = True
owner.save()
for index in range({count}):
    room = services.create_room(owner, f"Bench {{index:03d}}")
    print(room.slug, services.rotate_stream_key(room, owner))
"""


def make_source(folder: Path, seconds: int) -> Path:
    source = folder / "source-720p30.flv"
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-maxrate", "3M",
        "-bufsize", "6M", "-g", "60", "-c:a", "aac", "-b:a", "128k", str(source),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return source


def process_tree_cpu(root_pid: int, seen: dict[int, float]) -> None:
    """Update `seen` (pid -> CPU seconds) with the root and its descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
    family = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    for pid in family:
        if pid in parents:
            seen[pid] = max(seen.get(pid, 0.0), parents[pid][1] / CLOCK_TICKS)


def recorded_seconds(room_folder: Path) -> float:
    log = room_folder / "source" / "recording.log"
    try:
        lines = log.read_text().splitlines()
    except OSError:
        return 0.0
    return sum(float(line.split()[1]) for line in lines if len(line.split()) == 3)


def run_round(folder: Path, env: dict, source: Path, streams: int, seconds: int) -> dict:
    manage = [sys.executable, "manage.py"]
    made = subprocess.run(
        [*manage, "shell", "--no-imports", "-c", MAKE_ROOMS.format(count=streams)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rooms = [tuple(line.split()) for line in made.splitlines() if len(line.split()) == 2]
    assert len(rooms) == streams, made
    ingest = subprocess.Popen(
        [*manage, "ingest", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    port = int(ingest.stdout.readline().rsplit(":", 1)[1])
    cpu: dict[int, float] = {}
    process_tree_cpu(ingest.pid, cpu)
    cpu_before = sum(cpu.values())
    publishers = []
    started = time.monotonic()
    for slug, key in rooms:
        command = [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i",
            str(source), "-t", str(seconds), "-c", "copy", "-f", "flv",
            f"rtmp://127.0.0.1:{port}/live/{key}",
        ]  # fmt: skip
        publishers.append((slug, time.monotonic(), subprocess.Popen(command)))
    hls = Path(env["HLS_ROOT"])
    behind: dict[str, float] = {}
    while time.monotonic() - started < seconds:
        time.sleep(0.5)
        process_tree_cpu(ingest.pid, cpu)
        for slug, began, _ in publishers:
            behind[slug] = (time.monotonic() - began) - recorded_seconds(hls / slug)
    process_tree_cpu(ingest.pid, cpu)
    window = time.monotonic() - started
    used = sum(cpu.values()) - cpu_before
    failed = sum(1 for _, _, process in publishers if process.wait(timeout=60) != 0)
    ingest.terminate()
    ingest.wait(timeout=60)
    lags = sorted(behind.values())
    return {
        "streams": streams,
        "failed": failed,
        "behind": (lags[0], statistics.median(lags), lags[-1]),
        "cores": used / window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="20,30", help="comma-separated N")
    parser.add_argument("--seconds", type=int, default=30, help="seconds of publishing")
    parser.add_argument("--ladder", default="none", help="TRANSCODER_LADDER")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "bench/bench_ingest_streams.py", *sys.argv[1:]])
    print(f"Command: `{command}`; load average {os.getloadavg()[0]:.1f} before\n")
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        source = make_source(folder, args.seconds + 5)
        for streams in [int(n) for n in args.streams.split(",")]:
            round_folder = folder / f"n{streams}"
            round_folder.mkdir()
            env = {
                **os.environ,
                "LIVESITE_VAR_DIR": str(round_folder),
                "HLS_ROOT": str(round_folder / "hls"),
                "DATABASE_URL": f"sqlite:///{round_folder}/bench.sqlite3",
                "TRANSCODER_LADDER": args.ladder,
                "INGEST_RECONNECT_GRACE": "1",
                "LOG_LEVEL": "WARNING",
            }
            env.pop("REDIS_URL", None)
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
            )
            rows.append(run_round(round_folder, env, source, streams, args.seconds))
            print(f"N={streams} done: {rows[-1]}", flush=True)
    print(f"\nladder: {args.ladder}; {args.seconds} s of 720p30 per publisher\n")
    print("| N | failed | behind at the end, s (min / median / max) | ingest + transcoders, cores | cores per stream |")  # noqa: E501
    print("|---|---|---|---|---|")
    for row in rows:
        low, median, high = row["behind"]
        print(
            f"| {row['streams']} | {row['failed']} | {low:.2f} / {median:.2f} / {high:.2f} "
            f"| {row['cores']:.2f} | {row['cores'] / row['streams']:.4f} |"
        )


if __name__ == "__main__":
    main()
