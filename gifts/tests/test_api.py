import pytest
from django.urls import reverse

from gifts.services import sending
from gifts.tests.conftest import new_key


@pytest.fixture
def bob_client(client, rich_bob):
    client.force_login(rich_bob)
    return client


def send(client, room, **body):
    payload = {"gift": "rose", "quantity": 10, "idempotency_key": new_key(), **body}
    url = reverse("api-send-gift", args=[room.slug])
    return client.post(url, payload, content_type="application/json")


def test_the_catalog_is_public(client, catalog):
    body = client.get(reverse("api-gifts")).json()
    assert body["quantities"] == [1, 10, 99]
    assert len(body["gifts"]) == len(catalog)


def test_sending_answers_with_the_receipt(bob_client, live_room, catalog):
    response = send(bob_client, live_room, gift="crown", quantity=1)
    assert response.status_code == 201
    body = response.json()
    assert body["coins"] == 499
    assert body["balance"] == 10_000 - 499
    assert body["gift"]["slug"] == "crown"
    assert body["combo"] == {"id": body["transfer_id"], "count": 1, "total": 1}
    assert body["replayed"] is False


def test_a_retried_send_gets_the_same_receipt(bob_client, live_room, catalog):
    key = new_key()
    first = send(bob_client, live_room, idempotency_key=key)
    again = send(bob_client, live_room, idempotency_key=key)
    assert again.status_code == 200
    assert again.json() | {"replayed": False} == first.json()
    assert bob_client.get(reverse("api-wallet")).json() == {"coins": 10_000 - 50, "diamonds": 0}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"gift": "unicorn"}, 400, "unknown_gift"),
        ({"quantity": 7}, 400, "bad_quantity"),
        ({"idempotency_key": "nope"}, 400, "bad_idempotency_key"),
        ({"gift": "galaxy", "quantity": 99}, 402, "insufficient_funds"),
    ],
)
def test_bad_sends_get_a_code_and_a_message(bob_client, live_room, catalog, body, status, code):
    response = send(bob_client, live_room, **body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_an_offline_room_answers_409(bob_client, alice_room, catalog):
    response = send(bob_client, alice_room)
    assert (response.status_code, response.json()["code"]) == (409, "room_not_live")


def test_sending_needs_a_login(client, live_room, catalog):
    assert send(client, live_room).status_code in (401, 403)


def test_an_unknown_room_is_404(bob_client, catalog):
    url = reverse("api-send-gift", args=["nowhere"])
    assert bob_client.post(url, {}, content_type="application/json").status_code == 404


def test_the_wallet_history_is_paginated_newest_first(
    bob_client, rich_bob, live_room, catalog, unlimited_sends
):
    for _ in range(60):
        sending.send_gift(rich_bob, live_room, "heart", 1, new_key())
    first = bob_client.get(reverse("api-wallet-history")).json()
    assert len(first["results"]) == 50
    assert first["results"][0]["amount"] == -2
    assert first["results"][0]["kind"] == "gift"
    rest = bob_client.get(first["next"]).json()
    assert len(rest["results"]) == 11
    assert rest["results"][-1] == rest["results"][-1] | {"kind": "grant", "amount": 10_000}


def test_the_wallet_is_private(client, db):
    assert client.get(reverse("api-wallet")).status_code == 401


def test_leaderboards_are_public_and_paged(
    client, rich_bob, live_room, catalog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    stream = str(live_room.current_stream_id)
    for kind, ident in [("stream", stream), ("broadcaster", "alice")]:
        url = reverse("api-leaderboard", args=[kind, ident])
        body = client.get(url, {"limit": 5}).json()
        assert body["entries"] == [
            {"rank": 1, "user": {"username": "bob", "name": "bob"}, "score": 5}
        ]
    room = client.get(reverse("api-room-leaderboards", args=[live_room.slug])).json()
    assert set(room) == {"stream", "broadcaster"}
    assert client.get(reverse("api-leaderboard", args=["day", "yesterday"])).status_code == 404


def test_the_schema_lists_the_gift_endpoints(client, db):
    schema = client.get("/api/schema/").content
    assert b"/api/rooms/{slug}/gifts/" in schema
    assert b"/api/wallet/history/" in schema


def test_a_send_that_meets_a_lost_database_answers_503_to_retry(
    bob_client, live_room, catalog, monkeypatch
):
    from django.db import OperationalError

    def database_gone(*args, **kwargs):
        raise OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(sending, "send_gift", database_gone)
    response = send(bob_client, live_room)
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["code"] == "unavailable"


def test_a_sender_past_the_rate_is_told_to_wait_on_rest_as_on_the_socket(
    bob_client, live_room, catalog, monkeypatch
):
    """REST sends spend the same per-sender bucket as the room socket's (gifts.services);
    a slow refill here so that a busy machine cannot refill it between two requests."""
    from gifts.services import sending

    monkeypatch.setattr(sending, "SEND_BURST", 2)
    monkeypatch.setattr(sending, "SEND_RATE_PER_SECOND", 0.01)
    answers = [send(bob_client, live_room, quantity=1) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    body = answers[2].json()
    assert body["code"] == "rate_limited" and body["message"]
    assert 1 <= int(answers[2]["Retry-After"]) <= 100
    wallet = bob_client.get(reverse("api-wallet")).json()
    assert wallet["coins"] == 10_000 - 2 * catalog["rose"].price  # the refused send cost nothing
