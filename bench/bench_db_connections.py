"""Database connections one daphne process leaves open: sequential, then concurrent requests.

    DATABASE_URL=mysql://root@127.0.0.1:3306/livesite_db REDIS_URL=redis://127.0.0.1:6379/1 \\
      .venv/bin/python bench/bench_db_connections.py [--repo DIR] [--port N] [--env NAME=VALUE]

One daphne with production settings (DEBUG=0) serving the code in --repo (default: this
one; a copy of an older commit measures the code before a change), on DATABASE_URL and
REDIS_URL. It serves the room page, the directory, /api/rooms/, /api/rooms/<slug>/ and
/api/wallet/ (signed in) in turn: 1,000 requests one at a time, then 2,000 64 at a time,
and counts the server's connections to the database after each phase.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # noqa: S105 -- a benchmark account


def seed() -> tuple[str, str]:
    """(room slug, API token) of a broadcaster and her room, made if missing."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts import services as accounts
    from accounts.models import User
    from rooms import services as rooms
    from rooms.models import Room

    user = User.objects.filter(username="benchalice").first()
    if user is None:
        user = accounts.enable_broadcasting(
            accounts.sign_up("benchalice", "benchalice@example.com", PASSWORD)
        )
    room = Room.objects.filter(owner=user).first() or rooms.create_room(
        user, "Bench Room", "", "Games"
    )
    return room.slug, str(AccessToken.for_user(user))


def open_connections(database: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            " WHERE DB = %s AND ID <> CONNECTION_ID()",
            [database],
        )
        (count,) = cursor.fetchone()
    connection.close()
    return count


def wait_for_listening(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"daphne exited with {server.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("daphne did not listen within 120 s")


def get(url: str, headers: dict) -> int | str:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 -- loopback only
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return type(error).__name__


def phase(base: str, calls: list, count: int, concurrency: int) -> tuple[Counter, float]:
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as clients:
        statuses = Counter(clients.map(lambda call: get(base + call[0], call[1]), calls * count))
    return statuses, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="the code daphne serves")
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    arguments = parser.parse_args()
    slug, token = seed()
    from django.conf import settings
    from django.db import connection

    database = connection.settings_dict["NAME"]
    var_dir = Path(tempfile.mkdtemp(prefix="bench-db-"))
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # it signs the API token seed() made
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "LIVESITE_VAR_DIR": str(var_dir),
        "API_RATE_ANON": "1000000/min",
        "API_RATE_USER": "1000000/min",
        **dict(pair.split("=", 1) for pair in arguments.env),
    }
    python = str(REPO / ".venv" / "bin" / "python")
    collect = [python, "manage.py", "collectstatic", "--noinput", "-v0", "-i", "node_modules"]
    subprocess.run(collect, cwd=arguments.repo, env=env, check=True)
    log = (var_dir / "daphne.log").open("w")
    daphne = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(arguments.port)]
    server = subprocess.Popen(
        [*daphne, "livesite.asgi:application"],
        cwd=arguments.repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        wait_for_listening(arguments.port, server)
        signed_in = {"Authorization": f"Bearer {token}"}
        calls = [
            (f"/rooms/{slug}/", {}),
            ("/", {}),
            ("/api/wallet/", signed_in),
            ("/api/rooms/", {}),
            (f"/api/rooms/{slug}/", signed_in),
        ]
        base = f"http://127.0.0.1:{arguments.port}"
        before = open_connections(database)
        for name, count, concurrency in (("sequential", 200, 1), ("64 at a time", 400, 64)):
            statuses, seconds = phase(base, calls, count, concurrency)
            now = open_connections(database)
            print(
                f"{count * len(calls)} requests {name}: {dict(statuses)} in {seconds:.1f} s; "
                f"open connections to {database}: {now} (before the first request: {before})"
            )
    finally:
        server.terminate()
        server.wait()
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
