"""Origin throughput: Django's `/hls/` view (daphne) against nginx serving the same files.

Writes one room's HLS files (a 4-line-per-segment live playlist and a 600 KB segment,
about a 2 s 720p segment at 2.4 Mbit/s) into a temporary HLS_ROOT, starts
`daphne livesite.asgi:application` (one process, as `make run` does) and nginx (one
worker, files from disk, the same Cache-Control headers), and runs wrk with 100
connections against each for the playlist and the segment.

    .venv/bin/python bench/bench_origin.py                 # 10 s per run
    .venv/bin/python bench/bench_origin.py --seconds 20

Needs the Debian packages `wrk` and `nginx-light`. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NGINX_CONF = """
pid {dir}/nginx.pid;
error_log {dir}/error.log;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
  server {{
    listen 127.0.0.1:{port};
    root {dir};
    location /hls/ {{
      disable_symlinks on;
      location ~ \\.m3u8$ {{ add_header Cache-Control "public, max-age=1"; }}
      location ~ \\.ts$ {{ add_header Cache-Control "public, max-age=31536000, immutable"; }}
    }}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def write_room(hls: Path) -> None:
    room = hls / "bench-room" / "source"
    room.mkdir(parents=True)
    (room / "seg_100.ts").write_bytes(os.urandom(600_000))
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:95"]
    for sequence in range(95, 101):
        lines += ["#EXTINF:2.000,", f"seg_{sequence}.ts"]
    (room / "index.m3u8").write_text("\n".join(lines) + "\n")


def wrk(url: str, seconds: int) -> tuple[float, str, str]:
    result = subprocess.run(
        ["wrk", "-t2", "-c100", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if "Non-2xx" in result.stdout:
        raise RuntimeError(f"{url} answered errors:\n{result.stdout}")
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", result.stdout).group(1)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+\w+)", result.stdout).group(1)
    return requests, transfer, p99


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # noqa: S103 -- nginx workers run unprivileged; a temp folder
        hls = Path(folder) / "hls"
        write_room(hls)
        django_port, nginx_port = free_port(), free_port()
        env = {
            **os.environ,
            "HLS_ROOT": str(hls),
            "LIVESITE_VAR_DIR": folder,
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "LOG_LEVEL": "WARNING",
            # Production settings: DEBUG makes WhiteNoise search the finders on every request.
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(django_port),
             "livesite.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        conf = Path(folder) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=folder, port=nginx_port))
        nginx = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", folder, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_listening(django_port)
            wait_listening(nginx_port)
            for name in ("index.m3u8", "seg_100.ts"):
                path = f"/hls/bench-room/source/{name}"
                ours = wrk(f"http://127.0.0.1:{django_port}{path}", args.seconds)
                theirs = wrk(f"http://127.0.0.1:{nginx_port}{path}", args.seconds)
                print(
                    f"{name}: daphne origin {ours[0]:.0f} req/s ({ours[1]}/s, p99 {ours[2]}) | "
                    f"nginx {theirs[0]:.0f} req/s ({theirs[1]}/s, p99 {theirs[2]}) | "
                    f"ratio {ours[0] / theirs[0]:.3f}"
                )
        finally:
            for process in (daphne, nginx):
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    main()
