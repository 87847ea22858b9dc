"""Category pages: the live rooms of a category with their viewers and the category's total."""

import pytest
from django.urls import reverse

from discovery import services
from discovery.tests.conftest import go_live, watching

pytestmark = pytest.mark.django_db


@pytest.fixture
def games_live(alice_room, frank_room, erin_room):
    go_live(alice_room, minutes_ago=30)
    go_live(frank_room, minutes_ago=5)
    go_live(erin_room)
    watching(alice_room, 40)
    watching(frank_room, 300)
    watching(erin_room, 7)


def test_categories_list_live_rooms_and_viewers_most_watched_first(games_live):
    listed = [(c.name, c.live_rooms, c.viewers) for c in services.categories()]
    assert listed == [("Games", 2, 340), ("Art", 1, 7)]


def test_a_category_with_no_live_room_is_not_listed(alice_room, erin_room):
    go_live(erin_room)
    assert [c.name for c in services.categories()] == ["Art"]


def test_a_category_page_shows_its_live_rooms_counts_and_total(client, games_live):
    page = client.get(reverse("discovery:category", args=["Games"])).content.decode()
    assert "Speedrun Night" in page and "Alice&#x27;s Room" in page
    assert "Erin Paints" not in page
    assert "data-category-viewers>340<" in page and "👁 300" in page


def test_a_category_sorts_by_viewers_or_newest(games_live, alice_room, frank_room):
    by_viewers = services.category("games", "viewers").page.object_list
    newest = services.category("GAMES", "newest").page.object_list
    assert [room.slug for room in by_viewers] == [frank_room.slug, alice_room.slug]
    assert [room.slug for room in newest] == [frank_room.slug, alice_room.slug]
    watching(alice_room, 1000)
    by_viewers = services.category("games", "viewers").page.object_list
    assert [room.slug for room in by_viewers] == [alice_room.slug, frank_room.slug]


def test_offline_rooms_are_not_on_a_category_page(alice_room, frank_room):
    go_live(frank_room)
    assert [room.slug for room in services.category("Games").page.object_list] == [frank_room.slug]


def test_the_live_grid_fragment_refreshes_after_a_room_goes_live(
    client, alice_room, frank_room, django_capture_on_commit_callbacks
):
    url = reverse("discovery:category", args=["Games"])
    assert "Speedrun Night" not in client.get(url, {"fragment": "live"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        go_live(frank_room)
    fragment = client.get(url, {"fragment": "live"}).content.decode()
    assert "Speedrun Night" in fragment and "<html" not in fragment


@pytest.mark.parametrize(
    "name", ["' OR 1=1 --", "x" * 300, "🎮", "a/b/../../etc", "%00", "Games\u202e"]
)
def test_odd_category_names_are_answered(client, games_live, name):
    response = client.get(f"/categories/{name}/")
    assert response.status_code in (200, 404)


def test_a_category_with_a_slash_in_its_name_has_a_page(client, alice):
    from rooms import services as rooms

    room = rooms.create_room(alice, "Beats", category="Music/DJ")
    go_live(room)
    page = client.get(reverse("discovery:categories")).content.decode()
    assert 'href="/categories/Music/DJ/"' in page
    assert "Beats" in client.get("/categories/Music/DJ/").content.decode()


def test_hostile_sort_and_page_fall_back(client, games_live):
    response = client.get(
        reverse("discovery:category", args=["Games"]), {"sort": "1;DROP", "page": "-1e9"}
    )
    assert response.status_code == 200
