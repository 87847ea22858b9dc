"""Stale-tolerant reads on a real MariaDB replica, and falling back to the primary.

Two private MariaDB servers: a primary with a binary log, and a replica replicating
from it (CHANGE MASTER TO). A web process of its own (replica_reader) is pointed at
both. To see where a page read from, the test gives the replica a title the primary
does not have: the room page shows "Title on the replica" only when it read from the
replica. Then the replica lags (its SQL thread waits on a table lock while the primary
writes), stops replicating, and dies: each time the page reads from the primary.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from conftest import need_service

from .private_servers import private_primary_and_replica

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]

PRIMARY_TITLE = "Title on the primary"
REPLICA_TITLE = "Title on the replica"


def run_reader(primary, replica, *args: str, **env: str) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    }
    environment.update(
        DATABASE_URL=primary.url("livesite"),
        DATABASE_REPLICA_URL=replica.url("livesite"),
        DATABASE_REPLICA_MAX_LAG_SECONDS="2",
        LIVESITE_REQUIRE_SERVICES="0",
        ALLOWED_HOSTS="testserver",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-m", "livesite.tests.faults.replica_reader", *args],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


def seconds_behind(replica) -> int:
    value = replica.replication_status().get("Seconds_Behind_Master", "NULL")
    return -1 if value == "NULL" else int(value)


@pytest.fixture
def replicated_site(server_binaries):
    """A primary holding the site's schema and a room, and a replica that caught up with it."""
    need_service("MariaDB (DATABASE_URL)", connection.vendor == "mysql", "its schema is copied")
    with private_primary_and_replica() as (primary, replica):
        primary.copy_database_from(connection.settings_dict, "livesite")
        slug = run_reader(primary, replica, "setup", "replicated", PRIMARY_TITLE)["slug"]
        wait_for(
            lambda: replica.sql("SELECT title FROM rooms_room", "livesite").strip(),
            30,
            "the room replicated",
        )
        # The replica alone gets another title (the slug is the test's own constant).
        retitle = f"UPDATE rooms_room SET title='{REPLICA_TITLE}' WHERE slug='{slug}'"  # noqa: S608
        replica.sql(retitle, "livesite")
        yield primary, replica, f"/rooms/{slug}/"


def test_anonymous_room_page_reads_from_the_replica(replicated_site):
    primary, replica, page = replicated_site
    answer = run_reader(primary, replica, "get", page)
    assert answer["status"] == 200
    assert REPLICA_TITLE in answer["body"]


def test_own_write_is_read_back_from_the_primary(replicated_site):
    primary, replica, page = replicated_site
    answer = run_reader(primary, replica, "post-then-get", page)
    assert answer["status"] == 200
    assert PRIMARY_TITLE in answer["body"]


def test_lagging_replica_is_skipped_and_readyz_names_the_lag(replicated_site):
    primary, replica, page = replicated_site
    # The replica's SQL thread waits on this lock while the primary writes: real lag.
    lock = subprocess.Popen(
        ["mariadb", "-uroot", "-h127.0.0.1", f"-P{replica.port}", "livesite", "-e",
         "LOCK TABLES accounts_user WRITE; SELECT SLEEP(60)"],
    )  # fmt: skip
    try:
        time.sleep(0.5)
        primary.sql("UPDATE accounts_user SET first_name='lagging'", "livesite")
        wait_for(lambda: seconds_behind(replica) > 3, 30, "the replica lagged")
        answer = run_reader(primary, replica, "get", page)
        assert PRIMARY_TITLE in answer["body"]
        readiness = json.loads(run_reader(primary, replica, "get", "/readyz")["body"])
        assert readiness["degraded"] == ["database_replica"]
        assert readiness["checks"]["database_replica"]["error"] == "ReplicaLagging"
    finally:
        lock.kill()
        lock.wait()
    wait_for(lambda: seconds_behind(replica) == 0, 30, "the replica caught up")
    assert REPLICA_TITLE in run_reader(primary, replica, "get", page)["body"]


def test_replica_whose_replication_stopped_is_skipped(replicated_site):
    primary, replica, page = replicated_site
    replica.sql("STOP SLAVE SQL_THREAD")
    answer = run_reader(primary, replica, "get", page)
    assert PRIMARY_TITLE in answer["body"]


def test_stopped_replica_falls_back_to_the_primary(replicated_site):
    primary, replica, page = replicated_site
    replica.kill()
    answer = run_reader(primary, replica, "get", page)
    assert answer["status"] == 200
    assert PRIMARY_TITLE in answer["body"]
    readiness = json.loads(run_reader(primary, replica, "get", "/readyz")["body"])
    assert readiness["status"] == "degraded"
    assert readiness["checks"]["database_replica"]["error"] == "ReplicaUnreachable"
