"""The gifts cast on top of the project's: a demo catalog, alice live, bob with coins.

Leaderboard keys get a fresh prefix per test (like the shared cache's), so
runs never see each other's boards in a shared Redis and nothing is flushed.
"""

import uuid

import pytest

from gifts import gates, services
from gifts.catalog import forget_cached_catalog
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
    return {gift.slug: gift for gift in services.seed_demo_catalog()}


@pytest.fixture
def live_room(alice_room):
    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    return alice_room


@pytest.fixture
def rich_bob(bob):
    services.grant_coins(bob, 10_000, "test coins")
    return bob


def new_key() -> str:
    return uuid.uuid4().hex
