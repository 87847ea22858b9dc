"""A small catalogue of rooms for search and category tests.

alice's "Alice's Room" (Games, from the root conftest), erin's "Erin Paints"
(Art, #watercolour), frank's "Speedrun Night" (Games, #speedrun #mario).
"""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from accounts import services as accounts
from conftest import PASSWORD
from realtime import presence
from realtime.redis_client import close_redis
from rooms import services as rooms
from rooms.models import Room, Stream


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Nothing here is about passwords: the cast signs up without the slow hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_counts_from_other_tests():
    presence._local_counts.clear()


@pytest.fixture
def erin_room(db):
    erin = accounts.enable_broadcasting(accounts.sign_up("erin", "erin@example.com", PASSWORD))
    return rooms.create_room(erin, "Erin Paints", "Watercolours", "Art", tags="watercolour")


@pytest.fixture
def frank_room(db):
    frank = accounts.enable_broadcasting(accounts.sign_up("frank", "frank@example.com", PASSWORD))
    frank.display_name = "Frankie Fast"
    frank.save(update_fields=["display_name"])
    return rooms.create_room(frank, "Speedrun Night", "", "Games", tags="speedrun mario")


def watching(room, viewers: int) -> None:
    async def write():
        await presence.write_viewer_count(room.pk, viewers)
        await close_redis()

    async_to_sync(write)()


def go_live(room, minutes_ago: int = 0) -> Stream:
    stream = rooms.start_stream(room)
    Stream.objects.filter(pk=stream.pk).update(
        started_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    Room.objects.filter(pk=room.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return stream
