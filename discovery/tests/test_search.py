"""Searching rooms from the header: what matches, in which order, and what hostile
queries cannot do.

Tests that expect matches commit their rooms (`transaction=True`): InnoDB's FULLTEXT
index sees rows only once they are committed.
"""

import pytest
from django.urls import reverse

from discovery import matching, services
from discovery.tests.conftest import go_live, watching
from rooms.models import Room

pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)


def found(query: str, **params) -> list[str]:
    return [room.slug for room in services.search_rooms(query, **params).page.object_list]


@pytest.fixture
def catalogue(alice_room, erin_room, frank_room):
    return alice_room, erin_room, frank_room


FOUND_BY = [
    ("speedrun", {"speedrun-night"}),  # title and tag
    ("Mario", {"speedrun-night"}),  # tag, any case
    ("art", {"erin-paints"}),  # category
    ("games", {"alices-room", "speedrun-night"}),
    ("erin", {"erin-paints"}),  # broadcaster's username
    ("frankie", {"speedrun-night"}),  # broadcaster's display name
    ("spee", {"speedrun-night"}),  # a word's beginning
    ("water", {"erin-paints"}),
    ("alice games", {"alices-room"}),  # every word must match, anywhere
    ("the night", {"speedrun-night"}),  # a stopword FULLTEXT never finds
    ("zz", set()),
]


@committed
def test_rooms_are_found_by_title_tag_category_and_broadcaster(catalogue):
    answers = {query: set(found(query)) for query, _ in FOUND_BY}
    assert answers == dict(FOUND_BY)


@committed
def test_live_rooms_come_first(catalogue, alice_room, frank_room):
    go_live(frank_room)
    assert found("games")[0] == frank_room.slug


@committed
def test_live_rooms_sort_by_viewers_or_newest(catalogue, alice_room, frank_room):
    go_live(alice_room, minutes_ago=30)
    go_live(frank_room, minutes_ago=5)
    watching(alice_room, 500)
    watching(frank_room, 20)
    assert found("games", sort="viewers") == [alice_room.slug, frank_room.slug]
    assert found("games", sort="newest") == [frank_room.slug, alice_room.slug]


@committed
def test_results_are_paginated(alice, monkeypatch):
    from rooms import services as rooms

    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    for number in range(5):
        rooms.create_room(alice, f"Chess lesson {number}", category="Chess")
    listing = services.search_rooms("chess", page=3)
    assert listing.page.paginator.num_pages == 3 and len(listing.page.object_list) == 1


@committed
def test_a_cached_result_still_shows_a_room_that_just_went_live_first(
    catalogue, alice_room, frank_room, django_capture_on_commit_callbacks
):
    assert set(found("games")) == {alice_room.slug, frank_room.slug}  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        go_live(frank_room)
    results = services.search_rooms("games").page.object_list
    assert results[0].slug == frank_room.slug and results[0].is_live


HOSTILE = [
    "' OR 1=1 --",
    '"; DROP TABLE rooms_room; --',
    "+speedrun -mario",
    '"speedrun night" @8',
    "speed* (run) <night> ~mario",
    "%_%",
    "\\",
    "\x00speedrun\x00",
    "speedrun " * 500,
    "🎮🔥 speedrun 🎮",
    "\uff33\uff30\uff25\uff25\uff24\uff32\uff35\uff2e",  # full-width SPEEDRUN: NFKC makes it plain
    "ﬁ" * 300,
    "\u202espeedrun",  # a right-to-left override
    "a" * 10_000,
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_are_answered_and_change_nothing(catalogue, client, query):
    response = client.get(reverse("discovery:search"), {"q": query})
    assert response.status_code == 200
    assert Room.objects.count() == 3


@committed
def test_fulltext_operators_are_plain_words(catalogue):
    queries = ["+speedrun -mario", '"speedrun"', "speed*", "(speedrun)", "speedrun~"]
    assert {query: found(query) for query in queries} == {
        query: ["speedrun-night"] for query in queries
    }


@committed
def test_full_width_letters_find_plain_ones(catalogue):
    assert found("\uff33\uff30\uff25\uff25\uff24") == ["speedrun-night"]


def test_operators_never_reach_the_database_as_syntax():
    assert matching.words_of('+speed* -"night" (a) <b> ~c @8 %_') == [
        "speed", "night", "b", "c", "8",
    ]  # fmt: skip


def test_a_very_long_query_is_cut_to_a_few_short_words():
    words = matching.words_of(" ".join(f"word{n}" + "x" * 100 for n in range(50)))
    assert len(words) <= matching.MAX_WORDS
    assert all(len(word) <= matching.MAX_WORD_CHARS for word in words)


def test_the_header_search_box_is_on_every_page(client):
    page = client.get("/").content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page


@committed
def test_the_search_page_lists_cards_and_keeps_the_query(catalogue, client):
    page = client.get(reverse("discovery:search"), {"q": "speedrun"}).content.decode()
    assert "Speedrun Night" in page and "Erin Paints" not in page
    assert "Rooms for “speedrun”" in page


def test_a_query_without_results_says_so(catalogue, client):
    page = client.get(reverse("discovery:search"), {"q": "<script>alert(1)</script>"})
    content = page.content.decode()
    assert "No room matches" in content and "<script>alert(1)" not in content
