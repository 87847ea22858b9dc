"""WebRTC against RTMP on one ladder, WHEP viewers per core, WHIP-to-WHEP delay.

Runs the real `manage.py serve` (web + ingest in one process, throw-away SQLite and HLS
folder, no Redis) and measures, from /proc, the CPU of that process with its transcoder:

1. one RTMP broadcaster: ffmpeg sending a 720p30 H.264 (constrained baseline, 2 s GOP,
   2.5 Mbit/s) + AAC file in real time (`-re -c copy`);
2. one WHIP broadcaster: aiortc sending the same H.264 bytes (and Opus) without
   re-encoding them (`MediaPlayer(decode=False)`), so both protocols feed the transcoder
   the same video; the source rendition is copied and the ladder encoded in both;
3. the same WHIP broadcaster with V real-time viewers (aiortc, taking encoded frames,
   so this process's own decoding is not counted anywhere): the server's extra CPU per
   viewer, and viewers per core from it;
4. WHIP to WHEP delay: a publisher sends frames whose brightness encodes a frame number
   and a viewer decodes them; delay = arrival time - the frame's send time (capture and
   display excluded), p50 and p95.

    .venv/bin/python bench/bench_webrtc.py                       # ladder 360, 20 viewers
    .venv/bin/python bench/bench_webrtc.py --ladder 720,480,360 --viewers 40
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

from bench_ingest_streams import MAKE_ROOMS, process_tree_cpu  # noqa: E402

WARM_UP = 6.0
_tasks: set[asyncio.Task] = set()


def _keep(coroutine) -> None:
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def make_sources(folder: Path, seconds: int) -> tuple[Path, Path]:
    video = folder / "video.mkv"
    common = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    subprocess.run([
        *common, "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt",
        "yuv420p", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5M", "-g", "60",
        "-bf", "0", str(video),
    ], check=True)  # fmt: skip
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    # MPEG-TS keeps H.264 in Annex B, the form aiortc packetizes without re-encoding.
    flv, mkv = folder / "rtmp.flv", folder / "whip.ts"
    subprocess.run([*common, "-i", str(video), *tone, "-c:v", "copy", "-c:a", "aac",
                    "-shortest", str(flv)], check=True)  # fmt: skip
    subprocess.run([*common, "-i", str(video), *tone, "-c:v", "copy", "-c:a", "libopus",
                    "-ar", "48000", "-shortest", str(mkv)], check=True)  # fmt: skip
    return flv, mkv


class Cpu:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, float] = {}

    def sample(self) -> tuple[float, float]:
        process_tree_cpu(self.pid, self.seen)
        return time.monotonic(), sum(self.seen.values())


def cores_between(start: tuple[float, float], end: tuple[float, float]) -> float:
    return (end[1] - start[1]) / (end[0] - start[0])


async def measure(cpu: Cpu, seconds: float) -> float:
    await asyncio.sleep(WARM_UP)
    start = cpu.sample()
    await asyncio.sleep(seconds - WARM_UP)
    return cores_between(start, cpu.sample())


async def post(url: str, sdp: str, key: str | None = None) -> tuple[int, str]:
    from streaming.tests.whip_client import http

    headers = {"Content-Type": "application/sdp"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    response = await asyncio.to_thread(http, "POST", url, sdp.encode(), headers)
    return response.status, response.body


async def whip_file_publisher(web: str, key: str, path: Path):
    from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
    from aiortc.contrib.media import MediaPlayer

    from streaming.webrtc.network import IceSettings

    player = MediaPlayer(str(path), decode=False)
    pc = RTCPeerConnection(IceSettings().configuration())
    video = pc.addTransceiver(player.video, direction="sendonly")
    h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if "H264" in c.mimeType]
    video.setCodecPreferences(h264)
    pc.addTransceiver(player.audio, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    status, body = await post(f"{web}/whip/", pc.localDescription.sdp, key)
    assert status == 201, body
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return pc


async def encoded_viewer(web: str, slug: str):
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from streaming.webrtc.encoded_frames import want_encoded_frames
    from streaming.webrtc.network import IceSettings

    pc = RTCPeerConnection(IceSettings().configuration())
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    counts = {"frames": 0}

    async def drain(track):
        while True:
            try:
                await track.recv()
            except Exception:
                return
            counts["frames"] += 1

    def on_track(track):
        want_encoded_frames(track)
        _keep(drain(track))

    pc.on("track", on_track)
    await pc.setLocalDescription(await pc.createOffer())
    status, body = await post(f"{web}/whep/{slug}/", pc.localDescription.sdp)
    assert status == 201, body
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return pc, counts


async def delay_round(web: str, slug: str, key: str, seconds: float) -> list[float]:
    """Frame n has luma (4n mod 220) + 16: a viewer recovers n mod 55 from it."""
    from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription

    from streaming.tests.whip_client import FPS, TestPatternTrack
    from streaming.webrtc.network import IceSettings

    track = TestPatternTrack()
    publisher = RTCPeerConnection(IceSettings().configuration())
    video = publisher.addTransceiver(track, direction="sendonly")
    h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if "H264" in c.mimeType]
    video.setCodecPreferences(h264)
    await publisher.setLocalDescription(await publisher.createOffer())
    status, body = await post(f"{web}/whip/", publisher.localDescription.sdp, key)
    assert status == 201, body
    await publisher.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    await asyncio.sleep(4)
    viewer = RTCPeerConnection(IceSettings().configuration())
    viewer.addTransceiver("video", direction="recvonly")
    delays: list[float] = []

    async def watch(received):
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await received.recv()
            except Exception:
                return
            now = loop.time()
            luma = _mean_luma(frame)
            residue = round((luma - 16) / 4) % 55
            sent_index = int((now - track._start) * FPS)
            index = sent_index - ((sent_index - residue) % 55)
            delays.append(now - (track._start + index / FPS))

    viewer.on("track", lambda received: _keep(watch(received)))
    await viewer.setLocalDescription(await viewer.createOffer())
    status, body = await post(f"{web}/whep/{slug}/", viewer.localDescription.sdp)
    assert status == 201, body
    await viewer.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    await asyncio.sleep(seconds)
    await viewer.close()
    await publisher.close()
    return delays[30:]  # after the first second


def _mean_luma(frame) -> float:
    plane = frame.planes[0]
    data = bytes(plane)
    # Sample the middle row only: the frame is flat, and this keeps the bench light.
    row = plane.line_size * (frame.height // 2)
    middle = data[row : row + frame.width]
    return sum(middle) / len(middle)


async def run(args, web: str, cpu: Cpu, rooms, flv: Path, mkv: Path, port: int) -> dict:
    results = {}
    slug, key = rooms[0]
    rtmp = subprocess.Popen([
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", str(flv),
        "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{port}/live/{key}",
    ])  # fmt: skip
    results["rtmp"] = await measure(cpu, args.seconds)
    rtmp.terminate()
    rtmp.wait()
    await asyncio.sleep(4)  # the stream ends after the reconnect grace

    slug, key = rooms[1]
    publisher = await whip_file_publisher(web, key, mkv)
    results["whip"] = await measure(cpu, args.seconds)
    viewers = [await encoded_viewer(web, slug) for _ in range(args.viewers)]
    results["whip_viewers"] = await measure(cpu, args.seconds)
    results["viewer_frames"] = [counts["frames"] for _, counts in viewers]
    for pc, _ in viewers:
        await pc.close()
    await publisher.close()
    await asyncio.sleep(4)

    slug, key = rooms[2]
    results["delays"] = await delay_round(web, slug, key, args.seconds)
    return results


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--ladder", default="360")
    parser.add_argument("--viewers", type=int, default=20)
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "bench/bench_webrtc.py", *sys.argv[1:]])
    print(f"Command: `{command}`; load average {os.getloadavg()[0]:.1f} before\n", flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        flv, mkv = make_sources(folder, args.seconds * 2 + 10)
        env = {
            **os.environ,
            "LIVESITE_VAR_DIR": str(folder),
            "HLS_ROOT": str(folder / "hls"),
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "TRANSCODER_LADDER": args.ladder,
            "INGEST_RECONNECT_GRACE": "1",
            "LOG_LEVEL": "WARNING",
            "WHIP_OFFERS_PER_MINUTE": "10000",
        }
        env.pop("REDIS_URL", None)
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "LIVESITE_VAR_DIR")})
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        made = subprocess.run(
            [*manage, "shell", "--no-imports", "-c", MAKE_ROOMS.format(count=3)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        rooms = [tuple(line.split()) for line in made.splitlines() if len(line.split()) == 2]
        web_port = 18700
        serve = subprocess.Popen(
            [*manage, "serve", "--port", str(web_port), "--ingest-host", "127.0.0.1",
             "--ingest-port", "0"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            port = 0
            while not port:
                line = serve.stdout.readline()
                if line.startswith("ingest ready on port"):
                    port = int(line.split()[-1])
                elif not line:
                    raise SystemExit("serve exited")
            import django

            django.setup()
            results = asyncio.run(
                run(args, f"http://127.0.0.1:{web_port}", Cpu(serve.pid), rooms, flv, mkv, port)
            )
        finally:
            serve.terminate()
            serve.wait(timeout=60)
    per_viewer = (results["whip_viewers"] - results["whip"]) / args.viewers
    delays = sorted(results["delays"])
    print(f"ladder {args.ladder}; 720p30 source; {args.seconds} s per round\n")
    print("| measurement | value |")
    print("|---|---|")
    print(f"| RTMP broadcaster: serve + transcoder, cores | {results['rtmp']:.3f} |")
    print(f"| WHIP broadcaster: serve + transcoder, cores | {results['whip']:.3f} |")
    print(f"| WHIP / RTMP | {results['whip'] / results['rtmp']:.2f} |")
    print(f"| WHIP + {args.viewers} WHEP viewers, cores | {results['whip_viewers']:.3f} |")
    print(f"| per WHEP viewer, cores | {per_viewer:.4f} |")
    if per_viewer > 0:
        print(f"| WHEP viewers per core | {1 / per_viewer:.0f} |")
    frames = results["viewer_frames"]
    print(f"| frames per viewer in the round (min / max) | {min(frames)} / {max(frames)} |")
    if delays:
        p50 = statistics.median(delays)
        p95 = delays[int(len(delays) * 0.95)]
        print(f"| WHIP to WHEP delay p50 / p95, ms | {p50 * 1000:.0f} / {p95 * 1000:.0f} |")


if __name__ == "__main__":
    main()
