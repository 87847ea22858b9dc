"""Gifts over the room socket: the sender's receipt, the room's gift event, clear errors."""

import pytest
from channels.db import database_sync_to_async

from gifts import catalog
from gifts.services import coins
from rooms import services as rooms

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rose(db):
    return next(g for g in catalog.seed_demo_catalog() if g.slug == "rose")


async def test_a_gift_charges_once_and_animates_for_the_room(open_socket, alice_room, bob, rose):
    await database_sync_to_async(coins.grant_coins)(bob, 100, "test")
    await database_sync_to_async(rooms.start_stream)(alice_room)
    sender = await open_socket(alice_room, bob)
    watcher = await open_socket(alice_room)
    frame = {"type": "gift.send", "gift": rose.slug, "quantity": 10, "idempotency_key": "tap-0001"}
    await sender.send(frame)
    receipt = await sender.expect("gift.sent")
    assert receipt["balance"] == 100 - 10 * rose.price
    assert receipt["idempotency_key"] == "tap-0001" and receipt["replayed"] is False
    event = await watcher.expect("gift")
    assert event["gift"]["slug"] == "rose" and event["quantity"] == 10
    assert event["sender"]["username"] == "bob"

    await sender.send(frame)  # a retry of the same tap
    again = await sender.expect("gift.sent")
    assert again["replayed"] is True and again["balance"] == receipt["balance"]
    wallet = await database_sync_to_async(coins.wallet_of)(bob)
    assert wallet.coins == 100 - 10 * rose.price


async def test_gift_errors_are_clear_and_change_nothing(open_socket, alice_room, bob, rose):
    sender = await open_socket(alice_room, bob)
    offline = {"type": "gift.send", "gift": rose.slug, "quantity": 1, "idempotency_key": "tap-0002"}
    await sender.send(offline)
    error = await sender.expect("error")
    assert error["for"] == "gift.send" and error["code"] in {"room_not_live", "insufficient_funds"}

    await database_sync_to_async(rooms.start_stream)(alice_room)
    await sender.send({**offline, "idempotency_key": "tap-0003"})
    poor = await sender.expect("error")
    assert poor["code"] == "insufficient_funds" and poor["balance"] == 0
    await sender.send({**offline, "quantity": 7, "idempotency_key": "tap-0004"})
    assert (await sender.expect("error"))["code"] == "bad_quantity"
    await sender.send({**offline, "gift": "no-such-gift", "idempotency_key": "tap-0005"})
    assert (await sender.expect("error"))["code"] == "unknown_gift"


async def test_anonymous_viewers_cannot_send_gifts(open_socket, alice_room, rose):
    viewer = await open_socket(alice_room)
    await viewer.send(
        {"type": "gift.send", "gift": rose.slug, "quantity": 1, "idempotency_key": "x" * 8}
    )
    assert (await viewer.expect("error"))["code"] == "not_signed_in"


async def test_a_timed_out_viewer_cannot_send_gifts(open_socket, alice_room, alice, bob, rose):
    from moderation import services as moderation

    await database_sync_to_async(coins.grant_coins)(bob, 100, "test")
    await database_sync_to_async(rooms.start_stream)(alice_room)
    await database_sync_to_async(moderation.timeout_user)(alice, alice_room, bob, 10, "spam")
    sender = await open_socket(alice_room, bob)
    await sender.send(
        {"type": "gift.send", "gift": rose.slug, "quantity": 1, "idempotency_key": "tap-9999"}
    )
    error = await sender.expect("error")
    assert error["code"] == "restricted" and "timed out" in error["message"]
    assert (await database_sync_to_async(coins.wallet_of)(bob)).coins == 100


async def test_a_sender_past_the_rate_gets_an_error_with_the_wait(
    open_socket, alice_room, bob, rose, monkeypatch
):
    from gifts.services import sending

    # A slow refill, so that a busy machine cannot refill the bucket between two sends.
    monkeypatch.setattr(sending, "SEND_BURST", 1)
    monkeypatch.setattr(sending, "SEND_RATE_PER_SECOND", 0.01)
    await database_sync_to_async(coins.grant_coins)(bob, 100, "test")
    await database_sync_to_async(rooms.start_stream)(alice_room)
    sender = await open_socket(alice_room, bob)
    frame = {"type": "gift.send", "gift": rose.slug, "quantity": 1, "idempotency_key": "tap-7776"}
    await sender.send(frame)
    await sender.expect("gift.sent")
    await sender.send({**frame, "idempotency_key": "tap-7777"})
    error = await sender.expect("error")
    assert (error["code"], error["for"], error["idempotency_key"]) == (
        "rate_limited",
        "gift.send",
        "tap-7777",
    )
    assert error["retry_after"] > 0
    assert (await database_sync_to_async(coins.wallet_of)(bob)).coins == 100 - rose.price


def test_a_socket_gift_looks_up_neither_sender_nor_room_again(alice_room, bob, rose):
    """The socket knows its user and room; only the batch's own statements reach the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gifts.room_socket import _room, _send_gift

    coins.grant_coins(bob, 100, "test")
    rooms.start_stream(alice_room)
    room = _room(alice_room.pk)  # once per socket, at its first gift
    _send_gift(bob, room, rose.slug, 1, "tap-first-1")
    with CaptureQueriesContext(connection) as queries:
        receipt = _send_gift(bob, room, rose.slug, 1, "tap-second")
    assert receipt["balance"] == 100 - 2 * rose.price
    lookups = [
        q["sql"]
        for q in queries.captured_queries
        # The batch checks the room is live in one statement of its own (ledger.live_streams);
        # what must be gone is fetching the sender and the room by their keys on every send.
        if q["sql"].startswith("SELECT")
        and ("`accounts_user`.`id` = " in q["sql"] or "`rooms_room`.`id` = " in q["sql"])
    ]
    assert lookups == []
