"""Real service processes for tests: a Celery worker on its own queue, daphne, a private Redis."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]  # the repository


def database_url_of_test_database() -> str | None:
    """DATABASE_URL naming the database the tests run on, for a worker subprocess.

    pytest-django renames the database (test_<name>); a worker or a server
    started from a test must read and write that one. The suite keeps SQLite
    test databases in a file (see conftest.py) so they can be shared; None for
    an in-memory one.
    """
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(config["NAME"])
        return None if name == ":memory:" or "mode=memory" in name else f"sqlite:///{name}"
    if connection.vendor != "mysql":
        return None
    credentials = quote(config["USER"] or "", safe="")
    if config["PASSWORD"]:
        credentials += ":" + quote(config["PASSWORD"], safe="")
    host = config["HOST"] or "127.0.0.1"
    port = config["PORT"] or 3306
    return f"mysql://{credentials}@{host}:{port}/{config['NAME']}"


@contextmanager
def celery_worker(
    extra_env: dict | None = None, ready_timeout: float = 60.0, queue: str | None = None
):
    """A real `celery -A livesite worker` consuming a queue of its own; yields the queue name.

    The queue is private to the test (a new name unless `queue` is given) so that a worker
    left over from another run can never take its tasks.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, **(extra_env or {})}
    test_database = database_url_of_test_database()
    if test_database and "DATABASE_URL" not in (extra_env or {}):
        env["DATABASE_URL"] = test_database
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "livesite",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {process.returncode}")
            if " ready." in line:
                break
        else:
            raise RuntimeError("celery worker did not become ready")
        # Keep reading its log: a worker writing into a full pipe would stop working.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield queue
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Ask a child to stop (SIGTERM), and kill it if it has not within `timeout`."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    log: Path | None = None  # the server's standard error

    def log_tail(self, characters: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-characters:] if self.log else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def daphne_server(
    extra_env: dict | None = None,
    ready_timeout: float = 60.0,
    application: str = "livesite.asgi:application",
):
    """A real `daphne livesite.asgi:application` (or `application`) on a free loopback port.

    Yields a RunningServer (base URL and the process, for tests that kill it).

    It serves the test database, so tests that use it need
    `django_db(transaction=True)` for their rows to be visible.
    """
    from django.conf import settings

    port = free_port()
    env = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING", **(extra_env or {})}
    test_database = database_url_of_test_database()
    if test_database and "DATABASE_URL" not in (extra_env or {}):
        env["DATABASE_URL"] = test_database
    env.setdefault("REDIS_KEY_PREFIX", settings.REDIS_KEY_PREFIX)
    # A file, not a pipe: a pipe nobody reads fills up and stops a server that logs a lot.
    log = Path(tempfile.mkstemp(prefix="daphne-", suffix=".log")[1])
    log_file = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            application,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        text=True,
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"daphne exited with {process.returncode}: {server.log_tail()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("daphne did not start listening")
        yield server
    finally:
        stop_process(process)
        log_file.close()
        log.unlink(missing_ok=True)


# Private servers that fault tests kill and restart listen in this block, never on the
# shared services' ports.
PRIVATE_PORTS = range(18400, 18500)


def free_private_port() -> int:
    for port in PRIVATE_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PRIVATE_PORTS}")


class PrivateRedis:
    """A redis-server of the test's own, which the test may kill and start again."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_private_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def kill(self) -> None:
        """Like a crash: SIGKILL, and everything it held is gone (it keeps nothing on disk)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@contextmanager
def private_redis(folder: Path):
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()
