"""Shared pieces of the fault-injection suite: a cast of signed-in viewers, and the gate.

Every test here starts real processes (daphne, `manage.py ingest`, a Celery worker,
private Redis or MariaDB servers it may kill) and needs the services they share, so
each module is marked `faults` and `services`: `pytest -m faults` runs the suite alone.
"""

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from accounts import services as accounts
from conftest import need_service


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shared_services():
    """MariaDB and Redis, which every process under test must share with the test."""
    from django.db import connection

    need_service("Redis (REDIS_URL)", bool(settings.REDIS_URL), "processes share room events")
    need_service(
        "MariaDB (DATABASE_URL)",
        connection.vendor == "mysql",
        "several processes write the same database while one of them is killed",
    )


@pytest.fixture
def server_binaries():
    """The redis-server and mariadbd binaries, for servers of the test's own."""
    import shutil

    for binary in ("redis-server", "mariadbd", "mariadb-install-db", "mariadb-dump"):
        need_service(binary, shutil.which(binary) is not None, "a private server is started")


def session_cookie(user) -> str:
    """A signed-in session stored in the database, so every process can read it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


@pytest.fixture
def viewers(db):
    """Six signed-in viewers (and their session cookies) for load on a room."""
    cast = []
    for n in range(6):
        user = accounts.sign_up(f"viewer{n}", f"viewer{n}@example.com", "correct horse 123")
        cast.append((user, session_cookie(user)))
    return cast


# Chat limits a load test would trip: several messages a second from each viewer.
LOAD_ENV = {
    "CHAT_RATE_PER_MINUTE": "6000",
    "CHAT_RATE_BURST": "100",
    "CHAT_FRAMES_PER_SECOND": "200",
    "API_RATE_USER": "100000/min",
}


@pytest.fixture
def gifting_viewers(viewers):
    """The viewers with 100,000 coins each and the demo gift catalog."""
    from gifts import catalog
    from gifts.services import coins

    catalog.seed_demo_catalog()
    for user, _cookie in viewers:
        coins.grant_coins(user, 100_000, "fault test coins")
    return viewers


@pytest.fixture
def live_alice_room(alice_room):
    from rooms import services as rooms

    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    return alice_room
