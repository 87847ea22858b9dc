"""/api/search/ and /api/categories/: the pages' listings as JSON, in the schema."""

import pytest

from discovery.tests.conftest import go_live, watching

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # FULLTEXT sees committed rows only
def test_search_answers_rooms_live_first_with_viewers(client, alice_room, frank_room):
    go_live(frank_room)
    watching(frank_room, 12)
    body = client.get("/api/search/", {"q": "games"}).json()
    assert body["count"] == 2 and body["page"] == 1 and body["pages"] == 1
    assert body["sort"] == "viewers"
    first = body["results"][0]
    assert first == {
        "slug": "speedrun-night",
        "title": "Speedrun Night",
        "category": "Games",
        "tags": ["speedrun", "mario"],
        "status": "live",
        "owner": "frank",
        "owner_name": "Frankie Fast",
        "viewers": 12,
        "url": "/rooms/speedrun-night/",
    }
    assert body["results"][1]["viewers"] is None


@pytest.mark.parametrize("query", ["", "' OR 1=1 --", "+a -b *", "🎮" * 1000])
def test_search_takes_any_query(client, alice_room, query):
    response = client.get("/api/search/", {"q": query, "page": "x", "sort": "<script>"})
    assert response.status_code == 200
    assert response.json()["sort"] == "viewers"


def test_categories_and_a_category(client, alice_room, frank_room, erin_room):
    go_live(alice_room)
    go_live(frank_room)
    watching(alice_room, 3)
    watching(frank_room, 4)
    assert client.get("/api/categories/").json() == [
        {"name": "Games", "live_rooms": 2, "viewers": 7}
    ]
    body = client.get("/api/categories/Games/", {"sort": "newest"}).json()
    assert body["name"] == "Games" and body["viewers"] == 7 and body["count"] == 2


def test_the_schema_documents_search_and_categories(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/search/", "/api/categories/", "/api/categories/{name}/"} <= set(schema["paths"])
