"""Real clients for the ingest tests: `manage.py ingest` as a process, ffmpeg as OBS."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tests.support.servers import ROOT, database_url_of_test_database, stop_process


@dataclass
class RunningIngest:
    port: int
    hls_root: Path
    process: subprocess.Popen
    log: Path

    def url(self, key: str, app: str = "live") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}/{key}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def ingest_process(tmp_path: Path, extra_env: dict | None = None, ready_timeout: float = 60.0):
    """`python manage.py ingest` on an ephemeral port, on the test database."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    hls_root = tmp_path / "hls"
    log = tmp_path / "ingest.log"
    env = {
        **os.environ,
        "HLS_ROOT": str(hls_root),
        "TRANSCODER_LADDER": "none",
        "INGEST_RECONNECT_GRACE": "2",
        "INGEST_KEY_CHECK_MS": "200",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        **(extra_env or {}),
    }
    test_database = database_url_of_test_database()
    if test_database:
        env["DATABASE_URL"] = test_database
    command = [sys.executable, "manage.py", "ingest", "--host", "127.0.0.1", "--port", "0"]
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log_file, text=True
        )
    try:
        yield RunningIngest(_ready_port(process, ready_timeout), hls_root, process, log)
    finally:
        stop_process(process, timeout=30)


@dataclass
class RunningServe(RunningIngest):
    web_url: str = ""


@contextmanager
def serve_process(tmp_path: Path, extra_env: dict | None = None, ready_timeout: float = 60.0):
    """`python manage.py serve` (web + ingest in one process) on free ports."""
    from tests.support.servers import free_port

    web_port = free_port()
    hls_root = tmp_path / "hls"
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DEBUG": "1",
        "HLS_ROOT": str(hls_root),
        "TRANSCODER_LADDER": "none",
        "INGEST_RECONNECT_GRACE": "2",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        **(extra_env or {}),
    }
    test_database = database_url_of_test_database()
    if test_database:
        env["DATABASE_URL"] = test_database
    command = [
        sys.executable, "manage.py", "serve", "--port", str(web_port),
        "--ingest-host", "127.0.0.1", "--ingest-port", "0",
    ]  # fmt: skip
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log_file, text=True
        )
    try:
        port = _ready_port(process, ready_timeout)
        yield RunningServe(port, hls_root, process, log, f"http://127.0.0.1:{web_port}")
    finally:
        stop_process(process, timeout=30)


def _ready_port(process: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("ingest ready on "):
            return int(line.rsplit(" ", 1)[1].rsplit(":", 1)[-1])
        if not line and process.poll() is not None:
            raise RuntimeError(f"ingest exited with {process.returncode}")
    raise RuntimeError("ingest did not become ready")


def ffmpeg_publish(
    url: str,
    seconds: float,
    size: str = "320x240",
    realtime: bool = True,
    video_options: tuple[str, ...] = (),
):
    """Start publishing a test pattern with a tone, as OBS would (H.264 + AAC, 1 s GOP;
    libx264's defaults: High profile with B-frames, unless `video_options` say else)."""
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin"]
    if realtime:
        command.append("-re")
    command += [
        "-f", "lavfi", "-t", str(seconds), "-i", f"testsrc2=size={size}:rate=30",
        "-f", "lavfi", "-t", str(seconds), "-i", "sine=frequency=440",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p",
        *video_options, "-c:a", "aac", "-f", "flv", url,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__name__}")
