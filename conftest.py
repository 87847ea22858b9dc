"""The shared cast of the test suite, and how tests get real services.

Cast: alice broadcasts and owns "Alice's Room"; bob watches; carol moderates
alice's room; dave is staff. Tests that depend on a real service (Redis, a
Celery worker) ask for it through `need_service`: without the service they
skip, unless LIVESITE_REQUIRE_SERVICES=1 (as in CI), where they fail.
"""

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from accounts import services as accounts
from rooms import services as rooms

# `published_events`: the events a test's code published (tests/support/events.py).
pytest_plugins = ["tests.support.events"]

PASSWORD = "correct horse battery staple"  # noqa: S105 -- test accounts only


def need_service(name: str, available: bool, why: str = "") -> None:
    """Skip (laptop) or fail (CI) a test whose service is missing."""
    if available:
        return
    message = f"{name} is not configured{': ' + why if why else ''}"
    if settings.REQUIRE_SERVICES:
        pytest.fail(f"LIVESITE_REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Keep a SQLite test database in a file of this run's own, not in memory.

    Tests that start a server or a worker process (daphne, celery) must share
    the test database with it; an in-memory database cannot be shared.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        folder = Path(tempfile.gettempdir()) / "livesite-tests"
        folder.mkdir(exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(folder / f"test-{os.getpid()}.sqlite3")


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """A fresh key prefix per test: counters and sets in Redis never leak between tests.

    A prefix, not FLUSHDB, so that running the suite never wipes a shared Redis.
    """
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    for config in caches.values():
        config["KEY_PREFIX"] = prefix
    settings.CACHES = caches
    settings.REDIS_KEY_PREFIX = prefix


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def alice(db):
    user = accounts.sign_up("alice", "alice@example.com", PASSWORD)
    return accounts.enable_broadcasting(user)


@pytest.fixture
def bob(db):
    return accounts.sign_up("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def carol(db, alice_room, alice):
    user = accounts.sign_up("carol", "carol@example.com", PASSWORD)
    rooms.appoint_moderator(alice_room, alice, user)
    return user


@pytest.fixture
def dave(db):
    user = accounts.sign_up("dave", "dave@example.com", PASSWORD)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def alice_room(alice):
    return rooms.create_room(alice, "Alice's Room", "Speedruns every night", "Games")


@pytest.fixture
def redis_url():
    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL))
    return settings.REDIS_URL
