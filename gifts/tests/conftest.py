"""The gifts cast on top of the project's: a demo catalog, alice live, bob with coins.

Leaderboard keys get a fresh prefix per test (like the shared cache's), so
runs never see each other's boards in a shared Redis and nothing is flushed.
"""

import uuid

import pytest

from gifts import gates
from gifts.catalog import forget_cached_catalog, seed_demo_catalog
from gifts.services import coins
from rooms import services as rooms


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast signs up through the real service; PBKDF2 costs ~0.4 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def isolated_leaderboards(settings):
    settings.GIFTS_LEADERBOARD_KEY_PREFIX = f"test-{uuid.uuid4().hex[:12]}:gifts:lb"
    gates.forget()  # the cache is fresh for each test (conftest.isolated_cache)
    forget_cached_catalog()  # ids are reused once a transactional test truncates its tables


@pytest.fixture
def without_redis_boards(settings):
    """Leaderboards computed from the database, as on the embedded install."""
    settings.GIFTS_LEADERBOARD_REDIS_URL = ""


@pytest.fixture
def catalog(db):
    return {gift.slug: gift for gift in seed_demo_catalog()}


@pytest.fixture
def live_room(alice_room):
    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    return alice_room


@pytest.fixture
def rich_bob(bob):
    coins.grant_coins(bob, 10_000, "test coins")
    return bob


@pytest.fixture
def unlimited_sends(monkeypatch):
    """For tests about something else than the sender's rate (a ledger of sixty sends, two
    hundred concurrent ones): the per-sender rate out of the way."""
    from gifts.services import sending

    monkeypatch.setattr(sending, "SEND_BURST", 1_000_000)
    monkeypatch.setattr(sending, "SEND_RATE_PER_SECOND", 1_000_000)


def new_key() -> str:
    return uuid.uuid4().hex
