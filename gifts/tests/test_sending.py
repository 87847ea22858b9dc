from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from gifts.catalog import room_catalog
from gifts.errors import GiftError
from gifts.models import Balance, Currency, GiftSend, LedgerEntry, Transfer
from gifts.services import coins, sending
from gifts.tests.conftest import new_key
from rooms import services as rooms


def money_state():
    return (
        list(Balance.objects.order_by("pk").values_list("user_id", "currency", "slot", "amount")),
        LedgerEntry.objects.count(),
        Transfer.objects.count(),
    )


def test_a_viewer_sends_a_gift_and_the_broadcaster_earns_diamonds(
    rich_bob, alice, live_room, catalog
):
    receipt = sending.send_gift(rich_bob, live_room, "rose", 10, new_key())

    assert receipt.coins == 50
    assert receipt.balance == 10_000 - 50
    assert receipt.quantity == 10
    assert receipt.gift["slug"] == "rose"
    assert receipt.stream == live_room.current_stream_id
    assert receipt.replayed is False
    assert coins.wallet_of(rich_bob).coins == 9_950
    assert coins.wallet_of(alice).diamonds == 25  # 50 % share by default
    entries = LedgerEntry.objects.filter(transfer_id=receipt.transfer_id)
    assert sorted(entries.values_list("user_id", "currency", "amount")) == sorted(
        [(rich_bob.pk, Currency.COINS, -50), (alice.pk, Currency.DIAMONDS, 25)]
    )


def test_the_share_is_configurable_and_rounds_down(settings, rich_bob, alice, live_room, catalog):
    settings.GIFTS_BROADCASTER_SHARE_PERCENT = 30
    sending.send_gift(rich_bob, live_room, "ice-cream", 1, new_key())  # 10 coins
    sending.send_gift(rich_bob, live_room, "heart", 1, new_key())  # 2 coins -> 0.6 -> 0
    assert coins.wallet_of(alice).diamonds == 3
    assert LedgerEntry.objects.filter(user=alice).count() == 1  # no zero entries


def test_a_gift_can_be_named_by_id(rich_bob, live_room, catalog):
    receipt = sending.send_gift(rich_bob, live_room, catalog["crown"].pk, 1, new_key())
    assert receipt.gift["slug"] == "crown"


def test_a_retried_send_charges_once_and_answers_the_same(rich_bob, live_room, catalog):
    key = new_key()
    first = sending.send_gift(rich_bob, live_room, "donut", 10, key)
    again = sending.send_gift(rich_bob, live_room, "donut", 10, key)

    assert again.replayed is True
    assert again.as_dict() | {"replayed": False} == first.as_dict()
    assert coins.wallet_of(rich_bob).coins == 10_000 - 300
    assert GiftSend.objects.count() == 1


def test_a_retry_is_answered_even_after_the_stream_ended(rich_bob, live_room, catalog):
    key = new_key()
    first = sending.send_gift(rich_bob, live_room, "rose", 1, key)
    rooms.end_stream(live_room)
    live_room.refresh_from_db()
    assert sending.send_gift(rich_bob, live_room, "rose", 1, key).transfer_id == first.transfer_id


def test_a_retry_is_answered_even_after_the_gift_was_withdrawn(rich_bob, live_room, catalog):
    key = new_key()
    first = sending.send_gift(rich_bob, live_room, "galaxy", 1, key)
    catalog["galaxy"].is_active = False
    catalog["galaxy"].save()
    assert sending.send_gift(rich_bob, live_room, "galaxy", 1, key) == replace(
        first, replayed=True
    )


def test_a_key_reused_for_another_gift_is_refused(rich_bob, live_room, catalog):
    key = new_key()
    sending.send_gift(rich_bob, live_room, "rose", 1, key)
    with pytest.raises(GiftError) as error:
        sending.send_gift(rich_bob, live_room, "crown", 1, key)
    assert error.value.code == "idempotency_key_reused"


def test_keys_belong_to_their_sender(rich_bob, carol, live_room, catalog):
    coins.grant_coins(carol, 100, "test")
    key = new_key()
    sending.send_gift(rich_bob, live_room, "rose", 1, key)
    assert sending.send_gift(carol, live_room, "rose", 1, key).replayed is False


BAD_SENDS = [
    ("unknown_gift", {"gift": "unicorn"}),
    ("unknown_gift", {"gift": 999_999}),
    ("unknown_gift", {"gift": None}),
    ("unknown_gift", {"gift": "galaxy", "inactive": True}),
    ("bad_quantity", {"quantity": 0}),
    ("bad_quantity", {"quantity": 5}),
    ("bad_quantity", {"quantity": 100}),
    ("bad_quantity", {"quantity": -1}),
    ("bad_quantity", {"quantity": "ten"}),
    ("bad_quantity", {"quantity": True}),
    ("bad_quantity", {"quantity": 1.0}),
    ("bad_idempotency_key", {"key": None}),
    ("bad_idempotency_key", {"key": "short"}),
    ("bad_idempotency_key", {"key": "x" * 65}),
    ("bad_idempotency_key", {"key": "has spaces in it"}),
    ("bad_idempotency_key", {"key": 12345678}),
    ("insufficient_funds", {"gift": "galaxy", "quantity": 99}),
]


@pytest.mark.parametrize(("code", "change"), BAD_SENDS)
def test_bad_input_is_refused_and_changes_no_money(
    code, change, rich_bob, live_room, catalog, published_events
):
    if change.get("inactive"):
        catalog["galaxy"].is_active = False
        catalog["galaxy"].save()
    before = money_state()
    with pytest.raises(GiftError) as error:
        sending.send_gift(
            rich_bob,
            live_room,
            change.get("gift", "rose"),
            change.get("quantity", 1),
            change.get("key", new_key()),
        )
    assert error.value.code == code
    assert error.value.message
    assert money_state() == before
    assert published_events == []


def test_insufficient_funds_says_what_is_missing(bob, live_room, catalog):
    coins.grant_coins(bob, 40, "test")
    with pytest.raises(GiftError) as error:
        sending.send_gift(bob, live_room, "donut", 10, new_key())
    assert error.value.as_dict() == {
        "code": "insufficient_funds",
        "message": "This costs 300 coins and you have 40. Buy coins to send it.",
        "needed": 300,
        "balance": 40,
    }


def test_a_viewer_without_any_coins_gets_insufficient_funds(bob, live_room, catalog):
    with pytest.raises(GiftError) as error:
        sending.send_gift(bob, live_room, "heart", 1, new_key())
    assert error.value.code == "insufficient_funds"


@pytest.mark.parametrize("when", ["never live", "ended"])
def test_gifts_need_a_live_room(when, rich_bob, alice_room, catalog):
    if when == "ended":
        rooms.start_stream(alice_room)
        rooms.end_stream(alice_room)
        alice_room.refresh_from_db()
    before = money_state()
    with pytest.raises(GiftError) as error:
        sending.send_gift(rich_bob, alice_room, "rose", 1, new_key())
    assert error.value.code == "room_not_live"
    assert money_state() == before


def test_a_broadcaster_cannot_gift_their_own_room(alice, live_room, catalog):
    coins.grant_coins(alice, 1000, "test")
    before = money_state()
    with pytest.raises(GiftError) as error:
        sending.send_gift(alice, live_room, "rose", 1, new_key())
    assert error.value.code == "self_gift"
    assert money_state() == before


def test_an_anonymous_visitor_cannot_send(live_room, catalog):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(GiftError) as error:
        sending.send_gift(AnonymousUser(), live_room, "rose", 1, new_key())
    assert error.value.code == "not_signed_in"


def test_the_same_gift_again_within_the_window_is_a_combo(rich_bob, live_room, catalog):
    receipts = [sending.send_gift(rich_bob, live_room, "rose", 1, new_key()) for _ in range(3)]
    receipts.append(sending.send_gift(rich_bob, live_room, "rose", 10, new_key()))

    assert [r.combo["count"] for r in receipts] == [1, 2, 3, 4]
    assert [r.combo["total"] for r in receipts] == [1, 2, 3, 13]
    assert {r.combo["id"] for r in receipts} == {str(receipts[0].transfer_id)}


def test_another_gift_in_between_ends_the_combo(rich_bob, live_room, catalog):
    sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    sending.send_gift(rich_bob, live_room, "heart", 1, new_key())
    receipt = sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    assert receipt.combo["count"] == 1


def test_a_pause_longer_than_the_window_ends_the_combo(rich_bob, live_room, catalog, settings):
    settings.GIFTS_COMBO_WINDOW_SECONDS = 5
    first = sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    GiftSend.objects.filter(pk=first.transfer_id).update(
        created_at=timezone.now() - timedelta(seconds=6)
    )
    assert sending.send_gift(rich_bob, live_room, "rose", 1, new_key()).combo["count"] == 1


def test_the_room_sees_the_gift_only_after_commit(
    rich_bob, live_room, catalog, published_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receipt = sending.send_gift(rich_bob, live_room, "crown", 1, new_key())
    assert published_events == []
    for callback in callbacks:
        callback()

    first = published_events[0]
    assert first.room_id == live_room.pk
    assert first.event == {
        "type": "gift",
        "id": str(receipt.transfer_id),
        "room": live_room.slug,
        "stream": live_room.current_stream_id,
        "sender": {"username": "bob", "name": "bob"},
        "gift": receipt.gift,
        "quantity": 1,
        "coins": 499,
        "combo": {"id": str(receipt.transfer_id), "count": 1, "total": 1},
        "totals": {"stream": 499, "broadcaster": 499},
        "sent_at": receipt.sent_at.isoformat(),
    }


def test_the_room_gets_leaderboard_snapshots_at_most_once_an_interval(
    rich_bob, live_room, catalog, published_events, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    boards = published_events.of_type("leaderboard")
    assert [board["board"] for board in boards] == ["stream", "broadcaster"]
    assert boards[0]["entries"] == [
        {"rank": 1, "user": {"username": "bob", "name": "bob"}, "score": 5}
    ]
    gifts = published_events.of_type("gift")
    assert [gift["totals"]["stream"] for gift in gifts] == [5, 10]


def test_a_failed_send_publishes_nothing(
    bob, live_room, catalog, published_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(GiftError):
        sending.send_gift(bob, live_room, "rose", 1, new_key())
    assert published_events == []


def test_the_room_page_gets_the_catalog_it_needs(catalog, settings):
    data = room_catalog()
    assert data["quantities"] == [1, 10, 99]
    assert [gift["slug"] for gift in data["gifts"]][:2] == ["heart", "rose"]
    assert data["gifts"][0] == {
        "id": catalog["heart"].pk,
        "slug": "heart",
        "name": "Heart",
        "price": 2,
        "tier": "small",
        "animation": "pop",
        "image": "/static/gifts/art/heart.svg",
    }


def test_a_retry_past_the_rate_still_gets_the_receipt_of_its_send(
    rich_bob, live_room, catalog, monkeypatch
):
    """After a reconnect the page resends every unanswered key at once: those that went
    through must be answered with their receipt, not refused as too fast (and tapped again)."""
    monkeypatch.setattr(sending, "SEND_BURST", 1)
    monkeypatch.setattr(sending, "SEND_RATE_PER_SECOND", 0.01)
    key = new_key()
    first = sending.send_gift(rich_bob, live_room, "rose", 1, key)

    again = sending.send_gift(rich_bob, live_room, "rose", 1, key)
    assert again.replayed is True and again.transfer_id == first.transfer_id
    with pytest.raises(GiftError) as refused:
        sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    assert refused.value.code == "rate_limited"
    assert coins.wallet_of(rich_bob).coins == 10_000 - catalog["rose"].price


def test_an_account_deactivated_after_its_socket_opened_sends_nothing(
    rich_bob, live_room, catalog
):
    """The room socket keeps the user its handshake read; the batch reads the account again."""
    type(rich_bob).objects.filter(pk=rich_bob.pk).update(is_active=False)
    before = money_state()
    with pytest.raises(GiftError) as refused:
        sending.send_gift(rich_bob, live_room, "rose", 1, new_key())  # rich_bob still active here
    assert refused.value.code == "not_signed_in"
    assert money_state() == before
