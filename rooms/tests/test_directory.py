"""The directory: live rooms with viewer counts, followed rooms first, recent replays, cached."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from conftest import PASSWORD
from realtime import presence
from realtime.redis_client import close_redis
from rooms import cache, services
from rooms.models import Room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_counts_from_other_tests():
    presence._local_counts.clear()


@pytest.fixture
def erin_room(db):
    erin = accounts.enable_broadcasting(accounts.sign_up("erin", "erin@example.com", PASSWORD))
    return services.create_room(erin, "Erin Paints", "Watercolours", "Art")


def watching(room, viewers: int) -> None:
    """What the room's hubs publish once a second (chat.audience.RoomAudience.refresh)."""

    async def write():
        await presence.write_viewer_count(room.pk, viewers)
        await close_redis()

    async_to_sync(write)()


def go_live(room, minutes_ago: int = 0):
    stream = services.start_stream(room)
    Room.objects.filter(pk=room.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return stream


def directory(client, **params) -> str:
    return client.get(reverse("rooms:directory"), params).content.decode()


def test_live_cards_show_how_many_watch(client, alice_room):
    go_live(alice_room)
    watching(alice_room, 1234)
    assert "👁 1234" in directory(client)


def test_a_live_room_nobody_watches_shows_zero(client, alice_room):
    go_live(alice_room)
    assert "👁 0" in directory(client)


def test_offline_rooms_show_no_viewer_count(client, alice_room):
    watching(alice_room, 3)  # a stale count of a room that has since ended
    assert "👁" not in directory(client)


def test_cards_show_the_room_tags(client, alice):
    room = services.create_room(alice, "Night Run", tags="speedrun retro")
    go_live(room)
    page = directory(client)
    assert "#speedrun" in page and "#retro" in page


def test_recent_replays_list_ready_replays_only(client, alice_room):
    recorded = go_live(alice_room)
    services.end_stream(alice_room)
    services.record_replay(recorded.pk, 3725.4)
    unrecorded = go_live(alice_room)
    services.end_stream(alice_room)
    page = directory(client)
    assert "Recent replays" in page
    assert reverse("rooms:replay", args=[alice_room.slug, recorded.pk]) in page
    assert f'src="/hls/{alice_room.slug}/replays/{recorded.pk}/thumbnail.jpg"' in page
    assert "1:02:05" in page
    assert reverse("rooms:replay", args=[alice_room.slug, unrecorded.pk]) not in page


def test_without_replays_there_is_no_replay_section(client, alice_room):
    go_live(alice_room)
    services.end_stream(alice_room)
    assert "Recent replays" not in directory(client)


def test_a_second_view_reads_the_directory_from_the_cache(client, alice_room, erin_room):
    go_live(alice_room)
    with CaptureQueriesContext(connection) as first:
        directory(client)
    with CaptureQueriesContext(connection) as second:
        page = directory(client)
    assert len(second) < len(first)
    assert len(second) == 0  # an anonymous viewer: no query at all
    assert "Alice&#x27;s Room" in page and "Erin Paints" in page


def test_a_changed_title_shows_once_the_room_is_invalidated(
    client, alice_room, django_capture_on_commit_callbacks
):
    directory(client)
    Room.objects.filter(pk=alice_room.pk).update(title="Renamed behind the cache's back")
    assert "Renamed" not in directory(client)  # still the cached directory
    alice_room.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        cache.invalidate(alice_room)
    assert "Renamed behind the cache&#x27;s back" in directory(client)


def test_a_room_going_live_shows_at_once(client, alice_room, django_capture_on_commit_callbacks):
    assert "Nobody is live right now" in directory(client)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_stream(alice_room)
    page = directory(client)
    assert "Nobody is live right now" not in page
    assert f'src="/hls/{alice_room.slug}/thumbnail.jpg"' in page


def test_live_rooms_are_newest_first(client, alice_room, erin_room):
    go_live(alice_room, minutes_ago=10)
    go_live(erin_room, minutes_ago=1)
    page = directory(client)
    assert page.index("Erin Paints") < page.index("Alice&#x27;s Room")


def test_rooms_the_viewer_follows_come_first(client, alice_room, erin_room, bob):
    go_live(alice_room, minutes_ago=10)
    go_live(erin_room, minutes_ago=1)
    services.follow_room(bob, alice_room)
    directory(client)  # an anonymous view fills the cache, newest first
    client.force_login(bob)
    page = directory(client)
    assert page.index("Alice&#x27;s Room") < page.index("Erin Paints")


def test_following_costs_one_query_on_a_cached_directory(client, alice_room, erin_room, bob):
    go_live(alice_room)
    services.follow_room(bob, alice_room)
    client.force_login(bob)
    directory(client)
    with CaptureQueriesContext(connection) as queries:
        directory(client)
    follows = [q for q in queries if "rooms_follow" in q["sql"]]
    assert len(follows) == 1
    assert not [q for q in queries if "rooms_room" in q["sql"] or "rooms_stream" in q["sql"]]


def test_hostile_titles_are_escaped(client, alice):
    room = services.create_room(alice, "<script>alert(1)</script>", category="<b>x</b>")
    stream = go_live(room)
    services.end_stream(room)
    services.record_replay(stream.pk, 60)
    go_live(room)
    for page in (directory(client), directory(client, fragment="live")):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>x</b>" not in page


def test_the_live_fragment_is_only_the_grid_of_live_cards(client, alice_room, erin_room):
    go_live(alice_room)
    watching(alice_room, 5)
    recorded = go_live(erin_room)
    services.end_stream(erin_room)
    services.record_replay(recorded.pk, 60)
    fragment = directory(client, fragment="live")
    assert "<html" not in fragment and "<h1" not in fragment
    assert "Alice&#x27;s Room" in fragment and "👁 5" in fragment
    assert "Recent replays" not in fragment and "Erin Paints" not in fragment


def test_the_live_fragment_says_when_nobody_is_live(client, alice_room):
    assert "Nobody is live right now" in directory(client, fragment="live")


def test_the_directory_page_opens_the_directory_socket(client, db):
    page = directory(client)
    assert 'data-socket-path="/ws/directory/"' in page
    assert 'type="module"' in page and "js/directory" in page
