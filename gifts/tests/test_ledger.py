from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from gifts import ledger
from gifts.errors import GiftError
from gifts.models import Balance, Currency, LedgerEntry, Transfer
from gifts.services import coins, sending
from gifts.tests.conftest import new_key


def check_ledger() -> str:
    out = StringIO()
    call_command("gifts_check_ledger", stdout=out, stderr=out)
    return out.getvalue()


def test_the_check_proves_every_balance_equals_its_ledger_sum(rich_bob, carol, live_room, catalog):
    coins.grant_coins(carol, 500, "test")
    for sender in (rich_bob, carol):
        for gift in ("rose", "heart", "donut"):
            sending.send_gift(sender, live_room, gift, 10, new_key())
    assert "Ledger OK" in check_ledger()


def test_the_check_catches_a_balance_changed_behind_the_ledgers_back(rich_bob):
    Balance.objects.filter(user=rich_bob).update(amount=123)
    with pytest.raises(CommandError, match="1 ledger problem"):
        check_ledger()
    assert ledger.audit() == [f"user {rich_bob.pk} coins: balance 123 but ledger sums to 10000"]


def test_the_check_catches_a_gift_whose_entries_do_not_match(rich_bob, live_room, catalog):
    receipt = sending.send_gift(rich_bob, live_room, "rose", 1, new_key())
    LedgerEntry.objects.filter(transfer_id=receipt.transfer_id, amount__lt=0).update(amount=-4)
    problems = ledger.audit()
    assert f"gift transfer {receipt.transfer_id}: entries do not match the gift sent" in problems


def test_a_transfers_entries_share_its_id(rich_bob, alice, live_room, catalog):
    receipt = sending.send_gift(rich_bob, live_room, "crown", 1, new_key())
    transfer = Transfer.objects.get(pk=receipt.transfer_id)
    assert transfer.kind == "gift"
    assert {entry.user_id for entry in transfer.entries.all()} == {rich_bob.pk, alice.pk}


def test_ledger_entries_are_append_only(rich_bob):
    entry = LedgerEntry.objects.get(user=rich_bob)
    entry.amount = 1
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_the_database_refuses_a_negative_balance(bob):
    coins.grant_coins(bob, 5, "test")
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(user=bob).update(amount=-1)


def test_a_grant_adds_coins_through_the_ledger(bob, dave):
    transfer = coins.grant_coins(bob, 250, "Sorry for the outage", by=dave)
    assert coins.wallet_of(bob).coins == 250
    assert (transfer.kind, transfer.initiator, transfer.memo) == (
        "grant",
        dave,
        "Sorry for the outage",
    )
    assert list(transfer.entries.values_list("currency", "amount")) == [(Currency.COINS, 250)]


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, 10**9])
def test_a_grant_must_be_a_sensible_whole_number(bob, amount):
    with pytest.raises(GiftError) as error:
        coins.grant_coins(bob, amount, "test")
    assert error.value.code == "bad_amount"
    assert coins.wallet_of(bob).coins == 0


def test_a_grant_with_a_key_is_made_once(bob, dave):
    key = new_key()
    first = coins.grant_coins(bob, 100, "top-up", by=dave, idempotency_key=key)
    assert coins.grant_coins(bob, 100, "top-up", by=dave, idempotency_key=key) == first
    assert coins.wallet_of(bob).coins == 100
    with pytest.raises(GiftError) as error:
        coins.grant_coins(bob, 999, "top-up", by=dave, idempotency_key=key)
    assert error.value.code == "idempotency_key_reused"


def test_diamonds_are_spread_over_slots_and_summed(settings, alice, live_room, catalog):
    from accounts import services as accounts

    settings.GIFTS_EARNINGS_SLOTS = 4
    for n in range(6):
        viewer = accounts.sign_up(f"fan{n}", f"fan{n}@example.com", "correct horse 123")
        coins.grant_coins(viewer, 100, "test")
        sending.send_gift(viewer, live_room, "ice-cream", 1, new_key())
    rows = Balance.objects.filter(user=alice, currency=Currency.DIAMONDS)
    assert rows.count() > 1
    assert coins.wallet_of(alice).diamonds == 6 * 5
    assert ledger.audit() == []
