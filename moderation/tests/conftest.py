"""The moderation cast on top of the project's: erin, a viewer with a room of her own to show
that moderating one room gives no power in another; and the chat sockets of chat's tests.

Each test starts with nothing remembered in this process: no compiled filters,
no follows (ids are reused once a transactional test truncates its tables).
"""

from contextlib import contextmanager

import pytest

from accounts import services as accounts
from chat.tests.conftest import open_socket  # noqa: F401 -- the fixture, for these tests too
from conftest import PASSWORD
from moderation import gate
from moderation.room_rules import forget_compiled_rules
from rooms import services as rooms


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast signs up through the real service; PBKDF2 costs ~0.4 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def tasks_run_here():
    """Celery tasks run in the test's process, as on the embedded install, even where a broker
    is configured: no test leaves tasks in a shared queue. test_worker starts a real worker."""
    with tasks_eager(True):
        yield


@contextmanager
def tasks_eager(eager: bool):
    from livesite.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def nothing_remembered():
    forget_compiled_rules()
    gate.forget_follows()
    yield
    forget_compiled_rules()
    gate.forget_follows()


@pytest.fixture
def erin(db):
    return accounts.enable_broadcasting(accounts.sign_up("erin", "erin@example.com", PASSWORD))


@pytest.fixture
def erin_room(erin):
    return rooms.create_room(erin, "Erin's Kitchen", "Cooking", "Food")


@pytest.fixture
def frank(db):
    return accounts.sign_up("frank", "frank@example.com", PASSWORD)


@pytest.fixture
def viewers(db):
    """Three more viewers, for raids."""
    return [accounts.sign_up(f"viewer{n}", f"viewer{n}@example.com", PASSWORD) for n in range(3)]


@pytest.fixture
def live_room(alice_room):
    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    return alice_room
