"""Glass to glass: from a frame painted at the publisher to that frame on a viewer's screen.

The publisher is ffmpeg sending 720p30 H.264/AAC over RTMP in real time with a 2 s GOP
(OBS's usual keyframe interval). Into every frame it paints the wall clock at which the
frame was made: ``setpts=RTCTIME`` gives each frame the system clock in microseconds,
then one ``drawbox`` per bit paints the low 24 bits of its milliseconds as black/white
squares across the top of the picture (a time code a canvas can read without OCR).
A headless Chromium on the same machine (same clock) opens the room page, and every
100 ms draws the playing frame onto a canvas, reads the squares back and subtracts them
from ``Date.now()``. Frames are read at any rendition hls.js picks: the squares are
40 px wide at 720p, 13 px at 240p, and only their centres are read.

Everything runs from a throw-away SQLite database and HLS folder, in production
settings (DEBUG off, collected static files): ``manage.py ingest`` and ``daphne
livesite.asgi:application`` behind a private nginx running the checkout's own
``deploy/nginx.conf`` (its HLS cache and request collapsing; only the listen port, the
upstream port and the cache folder are the bench's), as the README deploys it.
``--direct`` skips nginx and opens the page on daphne itself.

``--baseline PATH`` first runs the same measurement on another checkout (e.g. a
worktree of the commit before LL-HLS) in the same invocation, so the two figures share
the machine's load, and prints their ratio: the machine is shared and noisy, so only
ratios measured side by side mean much.

    .venv/bin/python bench/bench_glass_to_glass.py --baseline /path/to/old/checkout
    .venv/bin/python bench/bench_glass_to_glass.py --ladder none --seconds 60
    .venv/bin/python bench/bench_glass_to_glass.py --extra-rooms 19 --extra-ladder none
    .venv/bin/python bench/bench_glass_to_glass.py --reconnect
    .venv/bin/python bench/bench_glass_to_glass.py --realtime --ladder 360
    .venv/bin/python bench/bench_glass_to_glass.py --whip --ladder 360

``--realtime`` (RTMP to WHEP) and ``--whip`` (WHIP to HLS) run ``manage.py serve`` (web
and ingest in one process, as WHIP and WHEP need without Redis) instead of daphne and
``manage.py ingest``. ``--realtime`` measures the HLS player first and then, on the
same page and publisher, presses "Real-time" and measures again: both figures side by
side. ``--whip`` first publishes with an aiortc WHIP publisher (640x360, H.264, time
code painted the same way at half the size) and reads the HLS player, then stops it and
measures RTMP to HLS on another room of the same server: both figures side by side.

Reports p50/p90 of the latency over ``--seconds`` after ``--warmup``, and stalls (the
video's ``waiting`` events once it has played). ``--reconnect`` stops the publisher
after the warm-up and starts it again 3 s later (within the reconnect grace), then
measures from 5 s after the restart. ``--extra-rooms N`` adds N more publishing rooms
on a second ingest with ``--extra-ladder`` (the measured room keeps its ladder). Those
publishers send a clip encoded once beforehand (``-c copy``, looped in real time), so
that 19 x264 encoders on the bench's side do not take the cores the server needs; that
ingest's per-address connection cap is raised to let them all in from 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import chromium  # noqa: E402

BITS = 24
SQUARE = 40
TIMECODE_FILTER = ",".join(
    [
        "settb=1/1000000",
        "setpts=RTCTIME",
        f"drawbox=x=0:y=0:w={BITS * SQUARE}:h={SQUARE}:color=black:t=fill",
        *(
            f"drawbox=x={bit * SQUARE}:y=0:w={SQUARE}:h={SQUARE}:color=white:t=fill:"
            f"enable='eq(mod(floor(t*1000/{2**bit})\\,2)\\,1)'"
            for bit in range(BITS)
        ),
        "settb=1/30",
        "setpts=N",
    ]
)
READ_LATENCIES = """
async ([seconds, bits, square]) => {
  const video = document.querySelector('[data-player] video');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const samples = [];
  let stalls = 0, played = false;
  video.addEventListener('playing', () => { played = true; });
  video.addEventListener('waiting', () => { if (played) stalls += 1; });
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!video.videoWidth || video.paused) continue;
    const scale = video.videoWidth / 1280;
    canvas.width = video.videoWidth; canvas.height = Math.ceil(square * scale);
    context.drawImage(video, 0, 0);
    const row = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const y = Math.floor(square * scale / 2);
    let value = 0;
    for (let bit = 0; bit < bits; bit += 1) {
      const x = Math.floor((bit * square + square / 2) * scale);
      const offset = (y * canvas.width + x) * 4;
      if (row[offset] + row[offset + 1] + row[offset + 2] > 3 * 128) value += 2 ** bit;
    }
    const modulus = 2 ** bits;
    samples.push((((Date.now() % modulus) - value) % modulus + modulus) % modulus);
  }
  return { samples, stalls, height: video.videoHeight };
}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="another checkout to measure first")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--ladder", help="TRANSCODER_LADDER (default: the settings' default)")
    parser.add_argument("--extra-rooms", type=int, default=0)
    parser.add_argument("--extra-ladder", default="none")
    parser.add_argument("--reconnect", action="store_true")
    parser.add_argument("--realtime", action="store_true", help="RTMP to WHEP, beside HLS")
    parser.add_argument("--whip", action="store_true", help="WHIP to HLS")
    parser.add_argument("--port", type=int, default=18500)
    parser.add_argument("--direct", action="store_true", help="no nginx in front")
    args = parser.parse_args()
    results = []
    print(f"load average {os.getloadavg()[0]:.1f} before", flush=True)
    if args.realtime or args.whip:
        for label, result in measure_webrtc(ROOT, args):
            print(f"{label}: {describe(result)}", flush=True)
            results.append(result)
        print(f"load average {os.getloadavg()[0]:.1f} after", flush=True)
        if len(results) == 2 and args.whip:
            whip, rtmp = (statistics.median(r["samples"]) for r in results)
            print(f"p50 ratio WHIP/RTMP = {whip / rtmp:.2f}")
        elif len(results) == 2:
            hls, realtime = (statistics.median(r["samples"]) for r in results)
            print(f"p50 ratio real-time/HLS = {realtime / hls:.2f}")
        return
    for label, root in (("baseline", args.baseline), ("this checkout", ROOT)):
        if root is None:
            continue
        result = measure(Path(root).resolve(), args)
        results.append(result)
        print(f"{label} ({root}): {describe(result)}", flush=True)
    if len(results) == 2:
        old, new = (statistics.median(r["samples"]) for r in results)
        print(f"p50 ratio this/baseline = {new / old:.2f}")


def describe(result: dict) -> str:
    samples = sorted(result["samples"])
    if not samples:
        return "no frames read"
    p90 = samples[max(int(len(samples) * 0.9) - 1, 0)]
    return (
        f"p50={statistics.median(samples) / 1000:.2f}s p90={p90 / 1000:.2f}s "
        f"samples={len(samples)} stalls={result['stalls']} height={result['height']}"
    )


def measure(root: Path, args) -> dict:
    python = root / ".venv" / "bin" / "python"
    python = str(python) if python.exists() else sys.executable
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        env = {
            **os.environ,
            "LIVESITE_VAR_DIR": folder,
            "HLS_ROOT": f"{folder}/hls",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "LOG_LEVEL": "WARNING",
            "INGEST_RECONNECT_GRACE": "15",
            "REPLAY_RETENTION_HOURS": "0",
        }
        env.pop("REDIS_URL", None)
        if args.ladder is not None:
            env["TRANSCODER_LADDER"] = args.ladder

        def manage(*arguments: str, **overrides: str) -> str:
            return subprocess.run(
                [python, "manage.py", *arguments],
                cwd=root, env={**env, **overrides}, check=True, capture_output=True,
                text=True,
            ).stdout.strip()  # fmt: skip

        manage("migrate", "-v", "0")
        manage("collectstatic", "--noinput", "-v", "0")
        manage("demo", DEBUG="1")  # demo accounts are refused with DEBUG off
        key = manage("room", "key", "demo-live")
        ingest_port, web_port, extra_port = args.port, args.port + 1, args.port + 2
        stack.enter_context(ingest(python, root, env, ingest_port))
        web = subprocess.Popen(
            [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(web_port),
             "livesite.asgi:application"],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(stop, web)
        page_port = web_port
        if not args.direct:
            page_port = args.port + 3
            stack.enter_context(edge(root, Path(folder), page_port, web_port))
        if args.extra_rooms:
            extra_env = {
                **env,
                "TRANSCODER_LADDER": args.extra_ladder,
                "INGEST_MAX_CONNECTIONS_PER_ADDRESS": str(args.extra_rooms + 4),
            }
            stack.enter_context(ingest(python, root, extra_env, extra_port))
            clip = encode_clip(Path(folder) / "clip.flv")
            for number in range(args.extra_rooms):
                slug = manage("room", "create", "demo_broadcaster", f"Extra room {number}")
                extra_key = manage("room", "key", slug.split()[-1])
                stack.callback(stop, publish_clip(extra_port, extra_key, clip))
        total = args.warmup + args.seconds + (8 if args.reconnect else 0)
        publisher = publish(ingest_port, key, seconds=total + 30)
        stack.callback(lambda: stop(publisher))
        master = Path(folder) / "hls" / "demo-live" / "master.m3u8"
        wait_for(master.exists, 60)
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{page_port}/rooms/demo-live/")
            page.wait_for_function(
                "() => { const v = document.querySelector('[data-player] video');"
                " return v && v.currentTime > 0; }",
                timeout=60_000,
            )
            page.wait_for_timeout(args.warmup * 1000)
            if args.reconnect:
                stop(publisher)
                time.sleep(3)
                publisher = publish(ingest_port, key, seconds=args.seconds + 40)
                page.wait_for_timeout(5000)
            return page.evaluate(READ_LATENCIES, [args.seconds, BITS, SQUARE])


def bench_env(folder: str, args) -> dict:
    env = {
        **os.environ,
        "LIVESITE_VAR_DIR": folder,
        "HLS_ROOT": f"{folder}/hls",
        "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        "INGEST_RECONNECT_GRACE": "15",
        "REPLAY_RETENTION_HOURS": "0",
        "WHIP_OFFERS_PER_MINUTE": "1000",
    }
    env.pop("REDIS_URL", None)
    if args.ladder is not None:
        env["TRANSCODER_LADDER"] = args.ladder
    return env


def measure_webrtc(root: Path, args) -> list[tuple[str, dict]]:
    """RTMP to HLS then RTMP to WHEP on one page (--realtime), or WHIP to HLS (--whip)."""
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        env = bench_env(folder, args)

        def manage(*arguments: str) -> str:
            return subprocess.run(
                [python, "manage.py", *arguments],
                cwd=root, env=env, check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip

        manage("migrate", "-v", "0")
        manage("demo")
        key = manage("room", "key", "demo-live")
        web_port = args.port + 1
        serve = subprocess.Popen(
            [python, "manage.py", "serve", "--port", str(web_port), "--ingest-host",
             "127.0.0.1", "--ingest-port", str(args.port)],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        stack.callback(stop, serve)
        serve.stdout.readline()  # ready
        total = args.warmup * 2 + args.seconds * 2 + 30
        results = []
        with chromium() as browser:
            page = browser.new_page()
            if args.whip:
                from timecode_publisher import TimecodePublisher

                publisher = TimecodePublisher(f"http://127.0.0.1:{web_port}/whip/", key)
                publisher.start()
                stack.callback(publisher.stop)
                whip = watch_hls(page, folder, web_port, "demo-live", args)
                results.append(("WHIP to HLS", whip))
                publisher.stop()
                # Then RTMP to HLS on another room of the same server, for the ratio.
                slug = manage("room", "create", "demo_broadcaster", "RTMP room").split()[-1]
                key = manage("room", "key", slug)
            else:
                slug = "demo-live"
            process = publish(args.port, key, seconds=total + 30)
            stack.callback(lambda: stop(process))
            results.append(("RTMP to HLS", watch_hls(page, folder, web_port, slug, args)))
            if args.realtime:
                page.click("[data-realtime]")
                page.wait_for_function(
                    "() => { const v = document.querySelector('[data-player] video');"
                    " return v.srcObject && v.videoWidth > 0 && v.currentTime > 0; }",
                    timeout=30_000,
                )
                page.wait_for_timeout(args.warmup * 1000)
                result = page.evaluate(READ_LATENCIES, [args.seconds, BITS, SQUARE])
                results.append(("RTMP to WHEP", result))
        return results


def watch_hls(page, folder: str, web_port: int, slug: str, args) -> dict:
    master = Path(folder) / "hls" / slug / "master.m3u8"
    wait_for(master.exists, 60)
    page.goto(f"http://127.0.0.1:{web_port}/rooms/{slug}/")
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-player] video');"
        " return v && v.currentTime > 0; }",
        timeout=60_000,
    )
    page.wait_for_timeout(args.warmup * 1000)
    return page.evaluate(READ_LATENCIES, [args.seconds, BITS, SQUARE])


@contextlib.contextmanager
def ingest(python: str, root: Path, env: dict, port: int):
    process = subprocess.Popen(
        [python, "manage.py", "ingest", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        process.stdout.readline()  # ready
        yield process
    finally:
        stop(process)


def publish(port: int, key: str, seconds: int) -> subprocess.Popen:
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
        "-f", "lavfi", "-t", str(seconds), "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-t", str(seconds), "-i", "sine=frequency=440",
        "-filter_complex", f"[0:v]{TIMECODE_FILTER}[v]", "-map", "[v]", "-map", "1:a",
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv",
        f"rtmp://127.0.0.1:{port}/live/{key}",
    ]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def encode_clip(path: Path) -> Path:
    """Ten seconds of 720p30 H.264/AAC with a 2 s GOP, encoded once for every extra room."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
         "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi",
         "-i", "sine=frequency=440", "-t", "10", "-c:v", "libx264", "-preset", "veryfast",
         "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", str(path)],
        check=True,
    )  # fmt: skip
    return path


def publish_clip(port: int, key: str, clip: Path) -> subprocess.Popen:
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
        "-stream_loop", "-1", "-i", str(clip), "-c", "copy", "-f", "flv",
        f"rtmp://127.0.0.1:{port}/live/{key}",
    ]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


@contextlib.contextmanager
def edge(root: Path, folder: Path, port: int, web_port: int):
    """The checkout's deploy/nginx.conf on a private port, in front of its daphne."""
    shipped = (root / "deploy" / "nginx.conf").read_text()
    shipped = re.sub(r"proxy_cache_path \S+", f"proxy_cache_path {folder}/nginx-cache", shipped)
    shipped = shipped.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{web_port};")
    shipped = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", shipped)
    conf = folder / "nginx.conf"
    conf.write_text(
        f"daemon off; worker_processes 1; pid {folder}/nginx.pid; error_log {folder}/nginx.log;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + "events { worker_connections 1024; }\n"
        f"http {{ access_log off; client_body_temp_path {folder}/nginx-body;\n"
        f"proxy_temp_path {folder}/nginx-proxy;\n{shipped}\n}}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(folder)])
    try:
        wait_for((folder / "nginx.pid").exists, 10)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the stream did not start")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
