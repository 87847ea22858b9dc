"""Go-live fan-out tests run the Celery tasks in the test's own process (eager), with
or without a broker configured; a real worker is exercised by the benchmark."""

import pytest
from django.core import mail

from accounts import services as accounts
from conftest import PASSWORD
from livesite.celery import app
from rooms import services as rooms


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Nothing here is about passwords: the cast signs up without the slow hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def erin(db, alice_room):
    """Follows alice's room."""
    user = accounts.sign_up("erin", "erin@example.com", PASSWORD)
    rooms.follow_room(user, alice_room)
    return user


@pytest.fixture
def go_live(alice_room, django_capture_on_commit_callbacks):
    """Start alice's room the way the ingest does, running what waits for the commit."""

    def start():
        with django_capture_on_commit_callbacks(execute=True):
            return rooms.start_stream(alice_room)

    return start


@pytest.fixture
def end_stream(alice_room, django_capture_on_commit_callbacks):
    def end():
        with django_capture_on_commit_callbacks(execute=True):
            return rooms.end_stream(alice_room)

    return end
