"""Two ingest nodes behind one public address: the cost of routing, and failover time.

    DATABASE_URL=mysql://root@127.0.0.1:3306/livesite_bench_video \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/bench_video_cluster.py --rounds 3 --lock-ttl 15 --grace 30

Starts the cluster of livesite/tests/faults/video_cluster.py from the shipped files
(two `manage.py ingest` nodes, each with its own HLS_ROOT, nginx and origin daphne; a
web daphne with HLS_NODE_ROUTING; one public nginx with the RTMP balancer and the HLS
edge) and two ffmpeg broadcasters (320x240, passthrough: TRANSCODER_LADDER=none). Then:

1. One public address: sequential keep-alive GETs of one segment through the edge (cache
   hits) against the same from the node's own nginx; GETs of unique URLs (a throwaway
   query: a miss every time, so the origin's redirect and the node are in the path)
   against the same straight to the node; and 100 viewers asking at once for the next
   LL-HLS part (a blocking reload), counting the requests that reach the web origin and
   the node's origin.
2. Failover, `--rounds` times on a fresh cluster: SIGKILL the ingest holding one room,
   restart its ffmpeg every 0.2 s through the public RTMP address (as OBS retries) until
   the other node holds the room, then wait until the public playlist lists the next
   media sequence number. Reports both times after the kill.

The database is the script's own (migrated, one user per room created per run); the
Redis keys go under a fresh prefix. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="bench/bench_video_cluster.py")
    parser.add_argument("--rounds", type=int, default=3, help="failovers, each on a fresh cluster")
    parser.add_argument("--lock-ttl", type=int, default=15, help="INGEST_LOCK_TTL")
    parser.add_argument("--grace", type=int, default=30, help="INGEST_RECONNECT_GRACE")
    parser.add_argument("--requests", type=int, default=2000, help="GETs per HTTP figure")
    parser.add_argument("--viewers", type=int, default=100, help="blocking reloads at once")
    return parser.parse_args(argv)


def set_up_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL", "").startswith("mysql://"):
        sys.exit("set DATABASE_URL to a MariaDB database of the benchmark's own")
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL")
    os.environ["REDIS_KEY_PREFIX"] = f"bench-video-{uuid.uuid4().hex[:8]}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def broadcaster(name: str):
    from accounts import services as accounts
    from rooms import services as rooms

    tag = uuid.uuid4().hex[:6]
    user = accounts.enable_broadcasting(
        accounts.sign_up(f"{name}{tag}", f"{name}{tag}@example.com", "correct horse 123")
    )
    room = rooms.create_room(user, f"{name} {tag}", "bench", "Bench")
    return room, rooms.rotate_stream_key(room, user)


def timed_gets(address: str, paths: list[str]) -> tuple[float, float, float]:
    """(requests/s, median ms, p99 ms) of sequential GETs on one keep-alive connection."""
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    latencies = []
    started = time.perf_counter()
    for path in paths:
        begun = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
        latencies.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    connection.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return len(paths) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def playlist_requests(address: str) -> float:
    """livesite_hls_requests_total for playlists answered 200 by a daphne's /metrics."""
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    pattern = r'livesite_hls_requests_total\{kind="playlist",status="200"\} ([0-9.e+]+)'
    match = re.search(pattern, text)
    return float(match[1]) if match else 0.0


def measure_addresses(cluster, room, requests: int, viewers: int, web_address: str) -> None:
    from livesite.tests.faults.test_ingest_cluster import read_playlist, registry
    from streaming.tests.live_ingest import wait_for

    wait_for(lambda: (p := read_playlist(cluster, room)) and len(p.segments) >= 3, timeout=30)
    playlist = read_playlist(cluster, room)
    segment = f"/hls/{room.slug}/source/{playlist.segments[-2].uri}"
    node = cluster.node(registry(room)["node"])
    public = cluster.http_url.removeprefix("http://")
    size = len(cluster.get(segment)[2])
    rows = [
        ("segment, cache hit, public address", public, [segment] * requests),
        ("segment, the node's own nginx", node.hls_address, [segment] * requests),
        ("unique URL (miss), public address: origin redirect + node",
         public, [f"{segment}?n={i}" for i in range(requests)]),
        ("unique URL, straight to the node", node.hls_address,
         [f"{segment}?n={i}" for i in range(requests)]),
    ]  # fmt: skip
    print(f"\nsegment of {size} bytes, {requests} sequential GETs on one connection each")
    print("| path | requests/s | median ms | p99 ms |\n|---|---|---|---|")
    for label, address, paths in rows:
        rate, median, p99 = timed_gets(address, paths)
        print(f"| {label} | {rate:,.0f} | {median:.2f} | {p99:.2f} |")

    # A stampede for the next part: one held request reaches the node's origin.
    origin_address = node_origin_address(node)
    wanted = read_playlist(cluster, room).segments[-1].sequence + 2
    path = f"/hls/{room.slug}/source/index.m3u8?_HLS_msn={wanted}&_HLS_part=0"
    before = playlist_requests(web_address), playlist_requests(origin_address)
    answers = []

    def viewer():
        answers.append(cluster.get(path)[0])

    threads = [threading.Thread(target=viewer) for _ in range(viewers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    after = playlist_requests(web_address), playlist_requests(origin_address)
    print(
        f"\n{viewers} viewers asking at once for part 0 of segment {wanted} (held until it is "
        f"written): {answers.count(200)} answered 200 within {took:.1f} s; requests reaching "
        f"the web origin: {after[0] - before[0]:.0f}, the node's origin: "
        f"{after[1] - before[1]:.0f}"
    )


def node_origin_address(node) -> str:
    config = (Path(node.ingest.hls_root).parent / "nginx" / "nginx.conf").read_text()
    return re.search(r"upstream livesite_node_origin \{\s*(?:#[^\n]*\n\s*)*server ([0-9.:]+);",
                     config)[1]  # fmt: skip


def fail_over(cluster, room, key, publisher, grace: int) -> tuple[float, float]:
    from livesite.tests.faults.test_ingest_cluster import (
        publish_until_held,
        read_playlist,
        registry,
    )
    from streaming.tests.live_ingest import wait_for

    doomed_id = registry(room)["node"]
    other_id = next(node.node_id for node in cluster.nodes if node.node_id != doomed_id)
    doomed = cluster.node(doomed_id)
    os.kill(doomed.ingest.process.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    doomed.ingest.process.wait(timeout=10)
    last = int(registry(room)["msn"])
    publisher.kill()
    publisher = publish_until_held(cluster, key, room, other_id, timeout=grace + 10)
    taken_over = time.monotonic() - killed_at

    def continued():
        playlist = read_playlist(cluster, room)
        return playlist and any(s.sequence == last + 1 for s in playlist.segments)

    wait_for(continued, timeout=grace + 10)
    playing = time.monotonic() - killed_at
    publisher.kill()
    return taken_over, playing


def main(argv) -> None:
    arguments = parse_arguments(argv)
    set_up_django()
    from livesite.tests.faults.test_ingest_cluster import registry
    from livesite.tests.faults.video_cluster import video_cluster
    from streaming.tests.live_ingest import ffmpeg_publish, wait_for

    env = {"INGEST_LOCK_TTL": str(arguments.lock_ttl),
           "INGEST_RECONNECT_GRACE": str(arguments.grace)}  # fmt: skip
    timings = []
    for round_ in range(arguments.rounds):
        first_room, first_key = broadcaster("alice")
        second_room, second_key = broadcaster("erin")
        with (
            tempfile.TemporaryDirectory(prefix="bench-video-") as folder,
            video_cluster(Path(folder), ingest_env=env) as cluster,
        ):
            publishers = []
            try:
                for room, key in ((first_room, first_key), (second_room, second_key)):
                    publishers.append(ffmpeg_publish(cluster.rtmp_url(key), 600))
                    wait_for(lambda r=room: registry(r).get("node"), timeout=30)
                nodes = {registry(first_room)["node"], registry(second_room)["node"]}
                print(f"round {round_ + 1}: the balancer put the rooms on {sorted(nodes)}")
                if round_ == 0:
                    measure_addresses(
                        cluster, first_room, arguments.requests, arguments.viewers,
                        web_address_of(cluster),
                    )  # fmt: skip
                time.sleep(arguments.lock_ttl / 3 + 1)  # at least one lock renewal
                timings.append(
                    fail_over(cluster, first_room, first_key, publishers[0], arguments.grace)
                )
                print(f"round {round_ + 1}: taken over {timings[-1][0]:.1f} s, playing "
                      f"{timings[-1][1]:.1f} s after the kill")  # fmt: skip
            finally:
                for publisher in publishers:
                    publisher.kill()
    taken = [t for t, _ in timings]
    playing = [p for _, p in timings]
    print(
        f"\nINGEST_LOCK_TTL={arguments.lock_ttl} INGEST_RECONNECT_GRACE={arguments.grace}: "
        f"taken over {min(taken):.1f}-{max(taken):.1f} s, playing again "
        f"{min(playing):.1f}-{max(playing):.1f} s after the kill ({len(timings)} rounds)"
    )


def web_address_of(cluster) -> str:
    config = Path(cluster.nodes[0].ingest.hls_root).parent.parent / "edge" / "nginx.conf"
    return re.search(r"upstream livesite_web \{\s*server ([0-9.:]+);", config.read_text())[1]


if __name__ == "__main__":
    main(sys.argv[1:])
