"""Many sends at once from one wallet, and one send retried many times at once.

On MariaDB these run truly concurrently: threads, each with its own database
connection, released together by a barrier, against committed data
(`transaction=True`). 200 sends go through 64 threads because a test server
allows ~150 connections. SQLite (the embedded install) allows one writer at a
time, so there the same sends run one after another: that checks the
arithmetic and the idempotency, not the locking, and says so.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from gifts import ledger
from gifts.errors import GiftError
from gifts.models import GiftSend, LedgerEntry
from gifts.services import coins, sending
from gifts.tests.conftest import new_key

CONCURRENT = connection.vendor == "mysql"
SENDS = 200
AFFORDABLE = 57
THREADS = 64


def run_all(calls, threads: int) -> list:
    """Run the calls at once (MariaDB) or one by one (SQLite); results or GiftErrors, in order."""

    def outcome(call):
        try:
            return call()
        except GiftError as error:
            return error
        finally:
            if CONCURRENT:
                connections.close_all()

    if not CONCURRENT:
        return [outcome(call) for call in calls]
    threads = min(threads, len(calls))
    barrier = threading.Barrier(threads)

    def first_together(index, call):
        def wrapped():
            if index < threads:  # the first wave starts at one instant; the rest follow
                barrier.wait(timeout=30)
            return call()

        return wrapped

    with ThreadPoolExecutor(max_workers=threads) as pool:
        waves = [first_together(index, call) for index, call in enumerate(calls)]
        return list(pool.map(outcome, waves))


@pytest.mark.django_db(transaction=True)
def test_two_hundred_sends_from_a_wallet_that_can_pay_for_57(
    bob, alice, live_room, catalog, unlimited_sends
):
    rose = catalog["rose"]
    coins.grant_coins(bob, AFFORDABLE * rose.price, "exactly 57 roses")

    def send():
        return sending.send_gift(bob, live_room, "rose", 1, new_key())

    outcomes = run_all([send] * SENDS, THREADS)

    sent = [o for o in outcomes if isinstance(o, sending.GiftReceipt)]
    refused = [o for o in outcomes if isinstance(o, GiftError)]
    assert len(sent) == AFFORDABLE
    assert {error.code for error in refused} == {"insufficient_funds"}
    assert len(refused) == SENDS - AFFORDABLE
    assert coins.wallet_of(bob).coins == 0
    assert sorted(receipt.balance for receipt in sent) == [
        rose.price * n for n in range(AFFORDABLE)
    ]
    assert coins.wallet_of(alice).diamonds == AFFORDABLE * (rose.price * 50 // 100)
    assert GiftSend.objects.count() == AFFORDABLE
    assert LedgerEntry.objects.filter(user=bob, amount__lt=0).count() == AFFORDABLE
    assert ledger.audit() == []


@pytest.mark.django_db(transaction=True)
def test_one_key_sent_twenty_times_at_once_charges_once(bob, live_room, catalog):
    coins.grant_coins(bob, 1_000, "test coins")
    key = new_key()

    def send():
        return sending.send_gift(bob, live_room, "donut", 10, key)

    outcomes = run_all([send] * 20, 20)

    assert all(isinstance(o, sending.GiftReceipt) for o in outcomes), outcomes
    assert len({receipt.transfer_id for receipt in outcomes}) == 1
    assert sum(not receipt.replayed for receipt in outcomes) == 1
    assert {receipt.balance for receipt in outcomes} == {700}
    assert coins.wallet_of(bob).coins == 700
    assert GiftSend.objects.count() == 1
    assert ledger.audit() == []


@pytest.mark.django_db(transaction=True)
def test_a_sender_and_a_broadcaster_gifting_each_other_at_once_never_deadlock(
    bob, alice, alice_room, catalog
):
    """Each send locks one coin row, then diamond rows: no cycle, whatever the order."""
    from accounts import services as accounts
    from rooms import services as rooms

    accounts.enable_broadcasting(bob)
    bob_room = rooms.create_room(bob, "Bob's Room")
    for room in (alice_room, bob_room):
        rooms.start_stream(room)
        room.refresh_from_db()
    coins.grant_coins(alice, 1_000, "test")
    coins.grant_coins(bob, 1_000, "test")

    calls = []
    for _ in range(20):
        calls.append(lambda: sending.send_gift(bob, alice_room, "heart", 10, new_key()))
        calls.append(lambda: sending.send_gift(alice, bob_room, "heart", 10, new_key()))
    outcomes = run_all(calls, 16)

    assert all(isinstance(o, sending.GiftReceipt) for o in outcomes), outcomes
    assert coins.wallet_of(alice).coins == coins.wallet_of(bob).coins == 1_000 - 400
    assert ledger.audit() == []


@pytest.mark.django_db(transaction=True)
def test_many_senders_at_once_share_transactions_and_every_balance_is_exact(
    alice, live_room, catalog, monkeypatch
):
    """Forty senders tapping five roses each: on MariaDB the sends that meet in a process
    share a transaction (gifts.group_commit); each sender still pays exactly, in order, and
    sees a combo that counts 1 to 5."""
    from accounts.models import User

    rose = catalog["rose"]
    senders = [User.objects.create_user(f"fan{n}", password="x") for n in range(40)]
    for sender in senders:
        coins.grant_coins(sender, 5 * rose.price, "five roses")
    batches = []
    write = sending._group_commit._write
    monkeypatch.setattr(
        sending._group_commit,
        "_write",
        lambda orders: batches.append(len(orders)) or write(orders),
    )

    def taps(sender):
        return lambda: [
            sending.send_gift(sender, live_room, "rose", 1, new_key()) for _ in range(5)
        ]

    outcomes = run_all([taps(sender) for sender in senders], len(senders))

    for receipts in outcomes:
        assert [receipt.combo["count"] for receipt in receipts] == [1, 2, 3, 4, 5]
        assert [receipt.balance for receipt in receipts] == [
            rose.price * n for n in range(4, -1, -1)
        ]
    assert all(coins.wallet_of(sender).coins == 0 for sender in senders)
    assert coins.wallet_of(alice).diamonds == 200 * (rose.price * 50 // 100)
    assert GiftSend.objects.count() == sum(batches) == 200
    if CONCURRENT:
        assert max(batches) > 1, "no two sends ever shared a transaction"
    assert ledger.audit() == []
