"""A real daphne with DEBUG=0 on MariaDB holds at most DATABASE_MAX_CONNECTIONS connections.

Issue 13: one process leaked a MariaDB connection per request (each request's thread
left its connection to the garbage collector) until the server refused everyone. Here
one daphne in production settings serves pages and REST, one request after another and
64 at a time, with a cap below the concurrency: every request must succeed (waiting
for a connection, never failing) and the process must end with at most the cap open.
"""

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from conftest import need_service
from tests.support.servers import daphne_server

ROOT = Path(__file__).resolve().parents[2]
CAP = 8
CONCURRENCY = 64

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def production_var_dir(tmp_path_factory):
    """LIVESITE_VAR_DIR with collected static files: DEBUG=0 serves names from a manifest."""
    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL))
    need_service(
        "MariaDB (DATABASE_URL)",
        connection.vendor == "mysql",
        "connections are counted at the MariaDB server",
    )
    var_dir = tmp_path_factory.mktemp("var")
    env = {**os.environ, **production_env(var_dir)}
    subprocess.run(
        # Packages' own nested node_modules are never served (and a stray link loops).
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0", "-i", "node_modules"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return var_dir


def production_env(var_dir: Path) -> dict:
    return {
        "DEBUG": "0",
        # The test's own key: it signs the API tokens the soak sends.
        "SECRET_KEY": settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "0",
        "LIVESITE_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "ERROR",
        "DATABASE_MAX_CONNECTIONS": str(CAP),
        # The soak is one client: the per-user and per-address API limits are not under test.
        "API_RATE_ANON": "1000000/min",
        "API_RATE_USER": "1000000/min",
    }


def get(url: str, headers: dict) -> int | str:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 -- our own loopback server
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def database_connections_of(pid: int) -> int:
    """Connections the MariaDB server has open from process `pid` to the test database."""
    sockets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            sockets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    database_port = int(connection.settings_dict["PORT"] or 3306)
    client_ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(remote.rsplit(":", 1)[1], 16) == database_port and (
                f"socket:[{inode}]" in sockets
            ):
                client_ports.add(local.rsplit(":", 1)[1])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT HOST FROM information_schema.PROCESSLIST WHERE DB = %s",
            [connection.settings_dict["NAME"]],
        )
        hosts = [host for (host,) in cursor.fetchall()]
    return sum(1 for host in hosts if f"{int(host.rsplit(':', 1)[-1]):04X}" in client_ports)


def requests_over_pages_and_rest(room, user) -> list[tuple[str, dict]]:
    signed_in = {"Authorization": f"Bearer {AccessToken.for_user(user)}"}
    return [
        (f"/rooms/{room.slug}/", {}),
        ("/", {}),
        ("/api/wallet/", signed_in),
        ("/api/rooms/", {}),
        (f"/api/rooms/{room.slug}/", signed_in),
    ]


def test_page_views_leave_no_connections_behind_even_with_the_old_collector_settings(
    production_var_dir, alice_room
):
    with daphne_server(
        production_env(production_var_dir),
        application="livesite.tests.asgi_old_collector:application",
    ) as server:
        statuses = Counter(get(f"{server.url}/rooms/{alice_room.slug}/", {}) for _ in range(200))
        open_connections = database_connections_of(server.process.pid)
        log = server.log_tail()

    assert statuses == {200: 200}, log
    # Before the fix: one connection per view still open (about 130 of 200).
    assert open_connections <= CAP


def test_soak_of_pages_and_rest_stays_within_the_connection_cap(
    production_var_dir, alice_room, bob
):
    calls = requests_over_pages_and_rest(alice_room, bob)
    with daphne_server(production_env(production_var_dir)) as server:
        sequential = Counter(
            get(server.url + path, headers)
            for path, headers in calls * 200  # 1,000
        )
        after_sequential = database_connections_of(server.process.pid)
        with ThreadPoolExecutor(CONCURRENCY) as clients:
            concurrent = Counter(
                clients.map(lambda call: get(server.url + call[0], call[1]), calls * 400)
            )
        after_concurrent = database_connections_of(server.process.pid)
        log = server.log_tail()

    assert sequential == {200: 1000}, log
    assert concurrent == {200: 2000}, log  # 64 at a time, 8 connections: they wait, none fails
    assert after_sequential <= CAP
    assert 0 < after_concurrent <= CAP
