"""Group commit: sends that arrive while a batch is written go together in the next one.

The mechanism is tested with a recording `write` (no database), then the gift
batch itself with refused and accepted sends side by side.
"""

import threading
import time

import pytest
from django.db import transaction

from accounts import services as accounts
from accounts.models import User
from gifts import ledger
from gifts.errors import InsufficientFunds, RoomNotLive, TooManySends
from gifts.group_commit import GroupCommit, Order
from gifts.models import GiftSend, Transfer
from gifts.services import coins, sending
from gifts.tests.conftest import new_key
from rooms import services as rooms


class Recorder:
    """A `write` that answers each order with its payload and can hold the first batch."""

    def __init__(self):
        self.batches: list[list] = []
        self.hold = threading.Event()
        self.holding = threading.Event()

    def __call__(self, orders):
        self.batches.append([order.payload for order in orders])
        if len(self.batches) == 1:
            self.holding.set()
            assert self.hold.wait(10)
        for order in orders:
            order.outcome = order.payload


def submit_in_thread(commit, order, results):
    thread = threading.Thread(
        target=lambda: results.append((order.payload, commit.submit(order))), daemon=True
    )
    thread.start()
    return thread


def join_all(threads):
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive(), "a caller never got its answer"


def wait_until_queued(commit, count):
    deadline = time.monotonic() + 10
    while len(commit._queue) < count:
        assert time.monotonic() < deadline, "the orders never queued"
        time.sleep(0.001)


def test_orders_arriving_during_a_write_share_the_next_batch():
    write, results = Recorder(), []
    commit = GroupCommit(write)
    first = submit_in_thread(commit, Order("a", 1), results)
    assert write.holding.wait(10)
    later = [submit_in_thread(commit, Order(key, n), results) for n, key in enumerate("bcde", 2)]
    wait_until_queued(commit, 4)
    write.hold.set()
    join_all([first, *later])

    assert write.batches == [[1], [2, 3, 4, 5]]
    assert sorted(results) == [(n, n) for n in range(1, 6)]  # each caller got its own answer
    assert not commit._leading


def test_one_order_per_key_in_a_batch_in_arrival_order():
    write, results = Recorder(), []
    commit = GroupCommit(write)
    first = submit_in_thread(commit, Order("held", 0), results)
    assert write.holding.wait(10)
    later = []
    for n, key in enumerate(["bob", "bob", "carol", "bob"], 1):
        later.append(submit_in_thread(commit, Order(key, n), results))
        wait_until_queued(commit, n)
    write.hold.set()
    join_all([first, *later])

    assert write.batches == [[0], [1, 3], [2], [4]]
    assert sorted(results) == [(n, n) for n in range(5)]


def test_callers_have_their_answers_before_the_after_commit_work_runs():
    answered, after_ran = threading.Event(), threading.Event()
    results = []

    def write(orders):
        for order in orders:
            order.outcome = order.payload

        def afterwards():  # e.g. Redis is slow: the next batch must not wait for it
            assert answered.wait(10)
            after_ran.set()

        return afterwards if orders[0].payload == "lead" else None

    commit = GroupCommit(write)
    leader = submit_in_thread(commit, Order(1, "lead"), results)
    follower = submit_in_thread(commit, Order(2, "next"), results)
    follower.join(10)
    assert ("next", "next") in results  # answered while the leader's after-work still waits
    answered.set()
    join_all([leader])
    assert after_ran.is_set()


def test_a_failed_write_fails_each_order_of_its_batch_and_the_next_batch_works():
    calls = []

    def write(orders):
        calls.append(len(orders))
        if len(calls) == 1:
            raise RuntimeError("database went away")
        for order in orders:
            order.outcome = "ok"

    commit = GroupCommit(write)
    with pytest.raises(RuntimeError, match="database went away"):
        commit.submit(Order("a", None))
    assert commit.submit(Order("a", None)) == "ok"
    assert not commit._leading  # the lead was given up both times


@pytest.mark.django_db(transaction=True)
def test_a_caller_in_its_own_transaction_writes_alone():
    write = Recorder()
    write.hold.set()
    commit = GroupCommit(write)
    commit._leading = True  # another caller's batch is in flight; it must not be waited for
    outcome = []

    def in_a_transaction():
        with transaction.atomic():
            outcome.append(commit.submit(Order("a", 7)))

    caller = threading.Thread(target=in_a_transaction, daemon=True)
    caller.start()
    join_all([caller])  # a caller that queued behind the batch in flight would hang here
    assert outcome == [7]
    assert write.batches == [[7]]


# --- The gift batch ------------------------------------------------------------------------


def order(sender, room, gift, quantity=1, key=None):
    return Order(sender.pk, sending._Send(sender, room, gift, quantity, key or new_key()))


@pytest.mark.django_db
def test_a_batch_commits_its_good_sends_and_refused_ones_change_nothing(
    alice, bob, carol, dave, live_room, catalog
):
    rose, donut = catalog["rose"], catalog["donut"]
    coins.grant_coins(bob, 1_000, "test")
    coins.grant_coins(carol, donut.price - 1, "not enough for a donut")
    coins.grant_coins(dave, 1_000, "test")
    coins.grant_coins(alice, 1_000, "test")
    accounts.enable_broadcasting(dave)
    broke = User.objects.create_user("broke", password="x")
    dave_room = rooms.create_room(dave, "Not live")
    used = new_key()
    sending.send_gift(bob, live_room, "rose", 1, used)
    before = {user.pk: coins.wallet_of(user) for user in (alice, bob, carol, dave)}
    transfers = Transfer.objects.count()

    orders = [
        order(bob, live_room, rose, key=used),  # a retry
        order(carol, live_room, donut),  # cannot pay
        order(alice, dave_room, rose),  # the room is not live
        order(dave, live_room, donut, quantity=10),
        order(broke, dave_room, donut),  # neither live nor affordable: "not live" comes first
    ]
    sending._write_sends(orders)

    assert orders[0].outcome is sending.KEY_TAKEN
    assert isinstance(orders[1].outcome, InsufficientFunds)
    assert isinstance(orders[2].outcome, RoomNotLive)
    assert isinstance(orders[4].outcome, RoomNotLive)
    sent = orders[3].outcome
    assert isinstance(sent, GiftSend)
    assert sent.sender_balance_after == 1_000 - 10 * donut.price
    assert coins.wallet_of(dave).coins == 1_000 - 10 * donut.price
    assert coins.wallet_of(carol) == before[carol.pk]
    assert coins.wallet_of(bob) == before[bob.pk]
    assert coins.wallet_of(alice).coins == before[alice.pk].coins
    assert coins.wallet_of(alice).diamonds == before[alice.pk].diamonds + sent.diamonds
    assert Transfer.objects.count() == transfers + 1  # the refused sends' keys were given back
    assert ledger.audit() == []


@pytest.mark.django_db
def test_combos_continue_across_batches(bob, live_room, catalog):
    coins.grant_coins(bob, 1_000, "test")
    rose = catalog["rose"]
    combos = []
    for quantity in (1, 10, 1):
        batch = [order(bob, live_room, rose, quantity)]
        sending._write_sends(batch)
        combos.append((batch[0].outcome.combo_count, batch[0].outcome.combo_total))
    assert combos == [(1, 1), (2, 11), (3, 12)]


@pytest.mark.django_db
def test_a_batch_refuses_a_sender_past_their_rate_and_sends_the_others(
    bob, dave, live_room, catalog, monkeypatch
):
    monkeypatch.setattr(sending, "SEND_BURST", 1)
    monkeypatch.setattr(sending, "SEND_RATE_PER_SECOND", 0.01)  # no refill during the test
    coins.grant_coins(bob, 1_000, "test")
    coins.grant_coins(dave, 1_000, "test")
    rose = catalog["rose"]
    sending._write_sends([order(bob, live_room, rose)])

    batch = [order(bob, live_room, rose), order(dave, live_room, rose)]
    sending._write_sends(batch)

    assert isinstance(batch[0].outcome, TooManySends)
    assert batch[0].outcome.details["retry_after"] > 0
    assert isinstance(batch[1].outcome, GiftSend)
    assert coins.wallet_of(bob).coins == 1_000 - rose.price  # the refused send cost nothing
    assert GiftSend.objects.filter(sender=bob).count() == 1
    assert ledger.audit() == []


@pytest.mark.django_db
def test_a_batch_spends_its_senders_buckets_in_one_redis_round_trip(
    redis_url, bob, carol, dave, live_room, catalog, monkeypatch
):
    from realtime.redis_client import get_sync_redis, redis_key

    pool = get_sync_redis().connection_pool
    taken = []
    get_connection = pool.get_connection
    monkeypatch.setattr(
        pool, "get_connection", lambda *a, **k: taken.append(1) or get_connection(*a, **k)
    )
    for sender in (bob, carol, dave):
        coins.grant_coins(sender, 1_000, "test")
    rose = catalog["rose"]

    sending._write_sends([order(bob, live_room, rose)])  # the room's bans are read once
    one = [order(bob, live_room, rose)]
    taken.clear()
    sending._write_sends(one)
    alone = len(taken)
    three = [order(sender, live_room, rose) for sender in (bob, carol, dave)]
    taken.clear()
    sending._write_sends(three)

    assert all(isinstance(o.outcome, GiftSend) for o in one + three)
    assert len(taken) == alone  # the rate and the bans: the same round trips for three as for one
    buckets = [redis_key("bucket", f"gifts:{sender.pk}") for sender in (bob, carol, dave)]
    assert get_sync_redis().exists(*buckets) == 3  # each sender's send spent from their bucket
