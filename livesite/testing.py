"""Starting real service processes for tests: a Celery worker on its own queue."""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def celery_worker(extra_env: dict | None = None, ready_timeout: float = 60.0):
    """A real `celery -A livesite worker` consuming a queue of its own; yields the queue name.

    The queue is private to the test so that a worker left over from another
    run can never take its tasks.
    """
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, **(extra_env or {})}
    process = subprocess.Popen(  # noqa: S603 -- fixed argv, our own interpreter
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
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
