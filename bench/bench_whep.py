"""WHEP viewers of a room live from RTMP: CPU per viewer and every viewer's frame delay.

Runs the real `manage.py serve` (web + ingest in one process, throw-away SQLite and HLS
folder, no Redis) with one RTMP broadcaster: ffmpeg sending a 720p30 H.264 file
(constrained baseline, no B-frames, 2 s GOP, 2.5 Mbit/s) + AAC in real time with
`-re -c copy`. Then:

1. the server's CPU (serve + its transcoder, from /proc) with no real-time viewer;
2. V aiortc viewers, spread over G generator processes (this script with
   `--generator`), that count frames from the RTP headers of their packets as they
   arrive, before SRTP (`--receiver headers`; `--receiver aiortc` takes encoded frames
   through aiortc's whole receive path, which costs the generators about three times
   what a viewer costs the server); the server's CPU again, over the same window as
   the generators record: the extra CPU per viewer, and viewers per core from it; each
   viewer's peer state (a viewer that connected and then closed shows here);
3. every viewer's frame delay, three ways, all on one machine's monotonic clock:
   - end to end: each video frame's arrival at the viewer minus its media time (RTP
     timestamp), aligned so that the viewer's fastest frame counts 0; this includes
     the publisher's own pacing (ffmpeg `-re` falls behind on a loaded machine);
   - fan-out spread: a frame's arrival at this viewer minus its earliest arrival at
     any viewer (frames matched by their RTP timestamp, or with `--receiver aiortc` a
     CRC of their bytes, identical for all viewers since nothing is re-encoded): what
     serving many viewers adds;
   - in the server: `livesite_whep_frame_delay_seconds` from /metrics, the time from a
     frame reaching the room's relay to each viewer's sender taking it;
   - relay to viewer: each frame's arrival at the viewer minus its arrival at the room's
     relay, on the monotonic clock every process of the machine shares (serve runs
     through this script with `--serve`, which logs the relay's arrivals and starts the
     senders' RTP timestamps at the frames' own, so a viewer knows which frame it got):
     the delay the server adds to each frame, the publisher's pacing left out.
   The generators' own event-loop lag is reported beside them: when it is high, the
   load generator is the limit, not the server.

    .venv/bin/python bench/bench_whep.py --viewers 100 --generators 4 --seconds 30
    .venv/bin/python bench/bench_whep.py --viewers 100 --generators 4 --seconds 15 --pin
    PATH=$PATH:/path/to/py-spy/bin .venv/bin/python bench/bench_whep.py --viewers 20 \
        --generators 2 --py-spy /tmp/whep-viewers.txt

`--py-spy PATH` samples serve with py-spy (on PATH; not a project dependency) during the
viewers' round and writes the collapsed stacks to PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import logging
import os
import resource
import shlex
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

from bench_ingest_streams import MAKE_ROOMS, process_tree_cpu  # noqa: E402

VIDEO_CLOCK = 90_000
# Each generator's viewers join this far apart: ICE and DTLS set-up run on the server's
# event loop, and a storm of joins on a starved machine stalls it for seconds.
JOIN_INTERVAL = 0.5
_tasks: set[asyncio.Task] = set()


def _keep(coroutine) -> None:
    task = asyncio.ensure_future(coroutine)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def make_source(folder: Path, seconds: int) -> Path:
    flv = folder / "rtmp.flv"
    subprocess.run([
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline",
        "-pix_fmt", "yuv420p", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5M",
        "-g", "60", "-bf", "0", "-c:a", "aac", "-b:a", "128k", str(flv),
    ], check=True)  # fmt: skip
    return flv


# --- the generator: viewers in one process -------------------------------------------


async def viewer(web: str, slug: str, record: dict, full: bool):
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from streaming.tests.whip_client import http
    from streaming.webrtc.encoded_frames import want_encoded_frames
    from streaming.webrtc.network import IceSettings

    pc = RTCPeerConnection(IceSettings().configuration())
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    delays: list[float] = []
    arrivals: list[tuple[int, float]] = []
    stamps: list[tuple[int, float]] = []  # (RTP timestamp as sent, arrival)
    # (RTP timestamp, the kernel's receive time on the viewer's socket, wall clock)
    socket_stamps: list[tuple[int, float]] = []
    counts = {"video": 0, "audio": 0}

    def video_frame(timestamp: int, identity: int, now: float, rtp: int | None = None) -> None:
        delays.append(now - timestamp / VIDEO_CLOCK)
        arrivals.append((identity, now))
        if rtp is not None:
            stamps.append((rtp, now))

    async def drain(track):
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            if not record["on"]:
                continue
            counts[track.kind] += 1
            if track.kind == "video":
                video_frame(frame.timestamp, zlib.crc32(frame.data), loop.time())

    def on_track(track):
        want_encoded_frames(track)
        _keep(drain(track))

    if full:
        pc.on("track", on_track)
    changes: list[tuple[str, float]] = []
    pc.on("connectionstatechange", lambda: changes.append((pc.connectionState, time.time())))
    await pc.setLocalDescription(await pc.createOffer())
    response = await asyncio.to_thread(
        http, "POST", f"{web}/whep/{slug}/", pc.localDescription.sdp.encode(),
        {"Content-Type": "application/sdp"},
    )  # fmt: skip
    if response.status != 201:
        raise SystemExit(f"WHEP refused: {response.status} {response.body}")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=response.body, type="answer"))
    changes.append(("answered", time.time()))
    if not full:
        read_headers_only(pc, record, counts, video_frame, socket_stamps)
    counts["changes"] = changes
    counts["stamps"] = stamps
    counts["socket_stamps"] = socket_stamps
    return pc, delays, arrivals, counts


def read_headers_only(pc, record: dict, counts: dict, video_frame, socket_stamps) -> None:
    """Count this viewer's frames from the RTP headers of the packets it receives.

    aiortc's receive path (jitter buffer, NACKs, reassembly, a thread per track) costs a
    generator about three times what a viewer costs the server, so 100 full viewers need
    more cores than this machine has; even its transport alone (a queue and a task
    switch a packet, SRTP's check and decryption) costs more than the server's send. So
    each RTP packet is read where it arrives, at the ICE connection, and taken no
    further: SRTP leaves an RTP header in the clear (RFC 3711), and the header is all this
    needs. A frame ends at a packet with the marker bit set; its RTP timestamp identifies
    it across viewers (serve starts every sender's timestamps at the frames' own). ICE
    (consent checks included), DTLS and RTCP stay aiortc's own.

    Each frame's last packet is also stamped with the time the kernel put it on the
    viewer's socket (SIOCGSTAMPNS): on one machine a generator process handles its
    viewers' packets one after the other, so a burst (a keyframe to every viewer) waits
    in the generators' sockets for them, not for the server; a viewer on a machine of
    its own reads its socket at once.
    """
    kinds = {c.payloadType: t.kind for t in pc.getTransceivers() for c in t._codecs}
    first: dict[str, int] = {}
    clock = time.monotonic  # what the event loop's time() reads

    def on_rtp(data: bytes) -> None:
        if not record["on"] or len(data) < 12:
            return
        kind = kinds.get(data[1] & 0x7F)
        if kind is None:
            return  # retransmission or padding
        counts[kind] += kind == "audio"
        if kind != "video" or not data[1] & 0x80:
            return
        counts["video"] += 1
        timestamp = int.from_bytes(data[4:8], "big")
        origin = first.setdefault(kind, timestamp)
        video_frame((timestamp - origin) % 2**32, timestamp, clock(), timestamp)
        if _received_at is not None:
            socket_stamps.append((timestamp, _received_at))

    connection = pc.getTransceivers()[0].receiver.transport.transport._connection
    connection.rtp_headers_only = on_rtp


_received_at: float | None = None  # the kernel's receive time of the packet being read
SIOCGSTAMPNS = 0x8907  # linux/sockios.h: the last read datagram's receive time


def _rtp_read_on_arrival() -> None:
    """In a generator: RTP (not RTCP) for a connection marked by read_headers_only goes to
    its reader as it arrives, not through STUN's parser and aiortc's queue."""
    from aioice import ice

    datagram_received = ice.StunProtocol.datagram_received
    data_received = ice.Connection.data_received

    def rtp_first(self, data, addr) -> None:
        global _received_at
        if 127 < data[0] < 192:  # RTP or RTCP, never STUN (RFC 7983)
            _received_at = None
            if data[1] & 0x80:  # a marker: the end of a frame (or an Opus packet)
                stamp = fcntl.ioctl(self.transport.get_extra_info("socket").fileno(),
                                    SIOCGSTAMPNS, bytes(16))  # fmt: skip
                seconds, nanoseconds = struct.unpack("qq", stamp)
                _received_at = seconds + nanoseconds / 1e9
            self.receiver.data_received(data, self.local_candidate.component)
        else:
            datagram_received(self, data, addr)

    def to_reader(self, data: bytes, component: int) -> None:
        reader = getattr(self, "rtp_headers_only", None)
        if reader is not None and 127 < data[0] < 192 and not 191 < data[1] < 224:
            reader(data)
        else:
            data_received(self, data, component)

    ice.StunProtocol.datagram_received = rtp_first
    ice.Connection.data_received = to_reader


async def loop_lag(record: dict, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.01)
        if record["on"]:
            lags.append(loop.time() - before - 0.01)


async def generate(web: str, slug: str, count: int, full: bool) -> dict:
    record = {"on": False}
    viewers = []
    for _ in range(count):
        viewers.append(await viewer(web, slug, record, full))
        await asyncio.sleep(JOIN_INTERVAL)
    lags: list[float] = []
    _keep(loop_lag(record, lags))
    print("ready", flush=True)
    seconds = float(await asyncio.to_thread(sys.stdin.readline))
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    record["on"] = True
    await asyncio.sleep(seconds)
    record["on"] = False
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    result = {"viewers": [], "cpu": cpu / seconds, "lag_p99": percentile(lags, 0.99)}
    for pc, delays, arrivals, counts in viewers:
        best = min(delays) if delays else 0.0
        result["viewers"].append({
            "delays": [round(d - best, 4) for d in delays],
            "arrivals": [(crc, round(at, 4)) for crc, at in arrivals],
            "counts": counts,
            "state": f"{pc.connectionState}/{pc.iceConnectionState}",
        })  # fmt: skip
        await pc.close()
    return result


def delay_rows(name: str, per_viewer: list[list[float]]) -> None:
    """Two rows of the report: `name` over all viewers' delays pooled (p50 / p99), and the
    p99 of the viewer whose p99 is worst; viewers with no delay measured are left out."""
    measured = [delays for delays in per_viewer if delays]
    if not measured:
        return
    pooled = [d for delays in measured for d in delays]
    worst = max(percentile(delays, 0.99) for delays in measured)
    p50, p99 = percentile(pooled, 0.5) * 1000, percentile(pooled, 0.99) * 1000
    print(f"| {name} p50 / p99, all viewers, ms ({len(measured)} viewers) | "
          f"{p50:.0f} / {p99:.0f} |")  # fmt: skip
    print(f"| {name}: worst viewer's p99, ms | {worst * 1000:.0f} |")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# --- the conductor ------------------------------------------------------------------


def cores(pid: int, seconds: float, seen: dict) -> tuple[float, float]:
    """(cores used by the process tree, seconds a second the process waited for a core)."""
    process_tree_cpu(pid, seen)
    before, waited = sum(seen.values()), run_queue_wait(pid)
    time.sleep(seconds)
    process_tree_cpu(pid, seen)
    return (sum(seen.values()) - before) / seconds, (run_queue_wait(pid) - waited) / seconds


def run_queue_wait(pid: int) -> float:
    """Seconds the process's threads have spent runnable but waiting for a core."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def start_serve(
    env: dict, web_port: int, log: str | None, relay_log: Path, cpus: set[int] | None = None
) -> tuple[subprocess.Popen, int]:
    errors = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    serve = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(relay_log), "--port", str(web_port),
         "--ingest-host", "127.0.0.1", "--ingest-port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )  # fmt: skip
    while True:
        line = serve.stdout.readline()
        if line.startswith("ingest ready on port"):
            return serve, int(line.split()[-1])
        if not line:
            raise SystemExit("serve exited")


def serve_with_relay_log(relay_log: str, arguments: list[str]) -> None:
    """`manage.py serve`, with every video frame's arrival at a room's relay written to
    `relay_log` (its RTP timestamp and the monotonic clock, which every process on this
    machine shares), and the senders' RTP timestamps starting at the frame's own (aiortc
    starts them at a random number): a viewer's arrival minus the relay's arrival of the
    same frame is then the delay the server added, whatever the publisher's pacing."""
    from aiortc import rtcrtpsender

    from streaming.webrtc import relay

    random32 = rtcrtpsender.random32

    def origin_zero_for_rtp_timestamps() -> int:
        return 0 if sys._getframe(1).f_code.co_name == "_run_rtp" else random32()

    rtcrtpsender.random32 = origin_zero_for_rtp_timestamps
    try:
        from streaming.webrtc import direct_sending
    except ImportError:
        pass  # a checkout from before the relay drove its viewers' senders
    else:
        direct_sending.timestamp_origin = lambda: 0
    log = open(relay_log, "w", buffering=1)  # noqa: SIM115  (open while serve runs)
    push = relay.EncodedRelay.push

    def logged_push(self, frame) -> None:
        if frame.codec != "opus" and self.tracks:
            log.write(f"{frame.timestamp % 2**32} {time.monotonic():.6f} {time.time():.6f}\n")
        push(self, frame)

    relay.EncodedRelay.push = logged_push
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "serve", *arguments])


def relay_to_viewer(
    viewers: list[dict], relay_log: Path, stamps: str = "stamps"
) -> list[list[float]]:
    """Per viewer: each frame's arrival (as the viewer's process read it, or with
    `stamps="socket_stamps"` as the kernel put it on the viewer's socket) minus its
    arrival at the relay."""
    at_relay: dict[int, float] = {}
    column = 1 if stamps == "stamps" else 2  # monotonic clock, or the kernel's wall clock
    for line in relay_log.read_text().splitlines():
        fields = line.split()
        at_relay.setdefault(int(fields[0]), float(fields[column]))
    return [
        [at - at_relay[rtp] for rtp, at in viewer["counts"].get(stamps, []) if rtp in at_relay]
        for viewer in viewers
    ]


def conduct(args) -> None:
    command = shlex.join([".venv/bin/python", "bench/bench_whep.py", *sys.argv[1:]])
    print(f"Command: `{command}`; load average {os.getloadavg()[0]:.1f} before", flush=True)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        flv = make_source(folder, args.seconds * 2 + 120)
        env = {
            **os.environ,
            "LIVESITE_VAR_DIR": str(folder),
            "HLS_ROOT": str(folder / "hls"),
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "TRANSCODER_LADDER": args.ladder,
            "LOG_LEVEL": "WARNING",
            "WHIP_OFFERS_PER_MINUTE": "100000",
            "WHEP_MAX_VIEWERS_PER_INGEST": str(max(args.viewers, 100)),
            "REPLAY_RETENTION_HOURS": "0",
        }
        env.pop("REDIS_URL", None)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        made = subprocess.run(
            [*manage, "shell", "--no-imports", "-c", MAKE_ROOMS.format(count=1)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        slug, key = next(line.split() for line in made.splitlines() if len(line.split()) == 2)
        relay_log = folder / "relay.log"
        serve_cpus = None
        if args.pin:
            # serve (and its transcoder) on the first core, alone; this script and what
            # it starts next (the publisher, the generators) on the others.
            serve_cpus = {min(os.sched_getaffinity(0))}
            os.sched_setaffinity(0, os.sched_getaffinity(0) - serve_cpus)
        serve, port = start_serve(env, args.port, args.serve_log, relay_log, serve_cpus)
        web = f"http://127.0.0.1:{args.port}"
        rtmp = subprocess.Popen([
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", str(flv),
            "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{port}/live/{key}",
        ])  # fmt: skip
        generators = []
        try:
            time.sleep(6)
            seen: dict = {}
            idle, idle_wait = cores(serve.pid, args.seconds, seen)
            load_idle = os.getloadavg()[0]
            shares = [args.viewers // args.generators] * args.generators
            shares[0] += args.viewers - sum(shares)
            for share in shares:
                generators.append(subprocess.Popen(
                    [sys.executable, __file__, "--generator", web, slug, str(share),
                     args.receiver],
                    cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                ))  # fmt: skip
            for generator in generators:
                if generator.stdout.readline().strip() != "ready":
                    raise SystemExit("a generator failed")
            time.sleep(3)
            histogram_before = frame_delay_buckets(web)
            for generator in generators:
                generator.stdin.write(f"{args.seconds}\n")
                generator.stdin.flush()
            spy = None
            if args.py_spy:
                spy = subprocess.Popen([
                    "py-spy", "record", "--pid", str(serve.pid), "--duration",
                    str(args.seconds), "--rate", "50", "--format", "raw", "-o", args.py_spy,
                ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            watched, watched_wait = cores(serve.pid, args.seconds, seen)
            load_watched = os.getloadavg()[0]
            histogram = frame_delay_buckets(web)
            histogram = {le: histogram[le] - histogram_before.get(le, 0) for le in histogram}
            results = [json.loads(generator.stdout.readline()) for generator in generators]
            if spy is not None:
                spy.wait(timeout=60)
        finally:
            for process in [*generators, rtmp]:
                process.terminate()
            serve.terminate()
            serve.wait(timeout=120)
        viewers = [v for result in results for v in result["viewers"]]
        added = relay_to_viewer(viewers, relay_log)
        to_socket = relay_to_viewer(viewers, relay_log, "socket_stamps")
    waits = (idle_wait, watched_wait)
    report(args, idle, watched, results, (load_idle, load_watched), histogram, waits, added,
           to_socket)  # fmt: skip


def frame_delay_buckets(web: str) -> dict[float, float]:
    """The server's livesite_whep_frame_delay_seconds histogram: {le: cumulative count}."""
    with urllib.request.urlopen(web + "/metrics", timeout=30) as response:  # noqa: S310
        text = response.read().decode()
    buckets = {}
    for line in text.splitlines():
        if line.startswith("livesite_whep_frame_delay_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def fan_out_spread(viewers: list[dict]) -> list[list[float]]:
    """Per viewer: each frame's arrival minus its earliest arrival at any viewer."""
    first: dict[int, float] = {}
    for viewer in viewers:
        for crc, at in viewer["arrivals"]:
            first[crc] = min(at, first.get(crc, at))
    return [[at - first[crc] for crc, at in viewer["arrivals"]] for viewer in viewers]


def report(args, idle, watched, results, loads, histogram, waits, added, to_socket) -> None:
    if args.results:
        Path(args.results).write_text(json.dumps(results))
    per_viewer = (watched - idle) / args.viewers
    viewers = [v for result in results for v in result["viewers"]]
    expected = args.seconds * 30
    video = [v["counts"]["video"] for v in viewers]
    audio = [v["counts"]["audio"] for v in viewers]
    print(f"\nladder {args.ladder}; 720p30 2.5 Mbit/s source; {args.seconds} s per round")
    print(f"load average {loads[0]:.1f} (no viewers) / {loads[1]:.1f} (viewers)\n")
    print("| measurement | value |")
    print("|---|---|")
    print(f"| RTMP room, no viewer: serve + transcoder, cores | {idle:.3f} |")
    print(f"| with {args.viewers} WHEP viewers, cores | {watched:.3f} |")
    print(f"| serve waiting for a core, s/s (no viewer / viewers) | {waits[0]:.3f} / "
          f"{waits[1]:.3f} |")  # fmt: skip
    print(f"| per WHEP viewer, cores | {per_viewer:.4f} |")
    if per_viewer > 0:
        print(f"| WHEP viewers per core | {1 / per_viewer:.0f} |")
    print(f"| video frames per viewer (min / median, {expected} sent) | "
          f"{min(video)} / {statistics.median(video):.0f} |")  # fmt: skip
    states = Counter(
        (v["state"], "frames" if v["counts"]["video"] else "no frame") for v in viewers
    )
    print("| viewers by peer state (connection/ICE) and frames | "
          + "; ".join(f"{n} {s} {f}" for (s, f), n in states.most_common()) + " |")  # fmt: skip
    print(f"| audio packets per viewer (min / median) | {min(audio)} / "
          f"{statistics.median(audio):.0f} |")  # fmt: skip
    delay_rows("frame delay", [v["delays"] for v in viewers])
    delay_rows("fan-out spread", fan_out_spread(viewers))
    delay_rows("relay to viewer", added)
    delay_rows("**relay to viewer's socket**", to_socket)
    total = histogram.get(float("inf"), 0)
    if total:
        within = histogram.get(0.2, 0) / total
        p99 = next((le for le in sorted(histogram) if histogram[le] >= 0.99 * total), None)
        print(f"| server: frames taken by viewers' senders within 200 ms | {within:.2%} |")
        print(f"| server: relay-to-sender delay p99 (bucket bound), s | <= {p99} |")
    generator_cpu = sum(r["cpu"] for r in results)
    print(f"| generators' CPU, cores ({args.generators} processes) | {generator_cpu:.2f} |")
    lag = max(r["lag_p99"] for r in results)
    print(f"| generators' loop lag p99 (worst), ms | {lag * 1000:.0f} |")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve_with_relay_log(sys.argv[2], sys.argv[3:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--generator":
        import django

        django.setup()
        web, slug, count, receiver = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        if receiver == "headers":
            _rtp_read_on_arrival()
        result = asyncio.run(generate(web, slug, count, receiver == "aiortc"))
        print(json.dumps(result), flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--ladder", default="none")
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--generators", type=int, default=4)
    parser.add_argument(
        "--receiver", choices=("headers", "aiortc"), default="headers",
        help="viewers count frames from RTP headers (default), or through aiortc's whole "
        "receive path (jitter buffer, reassembly), which costs the generators more",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=21080)
    parser.add_argument("--serve-log", help="write serve's log here")
    parser.add_argument(
        "--results", help="write every viewer's frames and peer state changes here (JSON)"
    )
    parser.add_argument("--py-spy", help="sample serve with py-spy during the viewers' round")
    parser.add_argument(
        "--pin", action="store_true",
        help="serve alone on one core, the publisher and the generators on the others, as "
        "when the viewers are other machines (an ingest is one process: one core)",
    )  # fmt: skip
    conduct(parser.parse_args())


if __name__ == "__main__":
    main()
