"""Posting transfers to balances and the ledger, and proving the two agree.

Every function that writes here runs inside the caller's transaction and
writes a balance change and its ledger entry together, so at every commit
each balance equals the sum of its user's entries in that currency.

Gift sends are written a batch at a time (gifts.group_commit): the senders'
coin rows are read with SELECT ... FOR UPDATE, the batch decides in Python
which sends their balances cover, and one UPDATE debits those; under the row
locks no concurrent batch can see the same balance. (SQLite has no FOR UPDATE;
it lets one writer in at a time, which serialises the same way.) The CHECK
constraint on `Balance.amount` is a second line of defence.

The hot row: on a big stream every gift credits the same broadcaster, and an
InnoDB row lock is held until COMMIT (an fsync, ~1.7 ms here), so one row caps
a broadcaster at a few hundred commits a second. Diamonds are therefore
credited to one of `GIFTS_EARNINGS_SLOTS` rows picked by sender, and the
balance is their sum; a batch credits each row it touches once. Coins stay in
one row: a debit must check the whole balance.

Lock order, which keeps gift sends free of deadlocks: a transaction locks coin
rows first, in user id order, then diamond rows, in (user, slot) order;
nothing locks a diamond row before a coin row.
"""

import functools
import time

from django.db import OperationalError, connection, transaction
from django.db.models import Sum
from django.db.models.constants import OnConflict

from gifts import conf
from gifts.combos import PreviousSend
from gifts.models import Balance, Currency, GiftSend, LedgerEntry, Transfer

# MySQL/MariaDB: deadlock found; lock wait timeout. Both roll the transaction back, safe to retry.
RETRYABLE_MYSQL_ERRORS = {1213, 1205}
RETRIES = 5


def retry_on_deadlock(function):
    """Run a whole transaction again when the database chose it as a deadlock victim.

    Concurrent inserts of one idempotency key can deadlock in InnoDB when the
    first inserter rolls back (the waiters all hold shared locks and each wants
    an exclusive one); the retry then finds the key free or taken and goes on.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for attempt in range(RETRIES):
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                code = error.args[0] if error.args else None
                if code not in RETRYABLE_MYSQL_ERRORS or attempt == RETRIES - 1:
                    raise
                if transaction.get_connection().in_atomic_block:
                    raise  # only the outermost transaction can be retried
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    return wrapper


def balance_of(user_id: int, currency: str) -> int:
    total = Balance.objects.filter(user_id=user_id, currency=currency).aggregate(s=Sum("amount"))
    return int(total["s"] or 0)


# The statements every gift send runs are written out by hand: compiling them
# through the ORM cost more CPU than MariaDB spent executing them (the bench
# in bench/bench_gifts.py). Portable SQL: the same text runs on MariaDB and
# SQLite through Django's cursor, which also maps the %s placeholders.


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def credit(user_id: int, currency: str, amount: int, slot: int = 0) -> None:
    if amount <= 0:
        return
    update = (
        f"UPDATE {_table(Balance)} SET amount = amount + %s "  # noqa: S608 -- as above
        "WHERE user_id = %s AND currency = %s AND slot = %s"
    )
    parameters = [amount, user_id, str(currency), slot]
    with connection.cursor() as cursor:
        cursor.execute(update, parameters)
        if cursor.rowcount:
            return
        # First credit of this balance: create the row, racing safely with another first credit.
        Balance.objects.bulk_create(
            [Balance(user_id=user_id, currency=currency, slot=slot, amount=0)],
            ignore_conflicts=True,
        )
        cursor.execute(update, parameters)


def earnings_slot(sender_id: int) -> int:
    # By sender, so one sender's gifts (already serialised on their coin row) share a slot.
    return sender_id % conf.earnings_slots()


def post_entries(entries: list[tuple[int, int, str, int]], now) -> None:
    """Append entries (transfer id, user id, currency, signed amount); zero amounts skipped."""
    rows = [(transfer, user, str(currency), amount) for transfer, user, currency, amount in entries]
    rows = [row for row in rows if row[3]]
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    created_at = _timestamp(now)
    parameters = [value for row in rows for value in (*row, created_at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(LedgerEntry)} "  # noqa: S608 -- as above
            f"(transfer_id, user_id, currency, amount, created_at) VALUES {values}",
            parameters,
        )


def _timestamp(moment):
    return connection.ops.adapt_datetimefield_value(moment)


# --- Gift sends, several in one transaction (gifts.group_commit) ---------------------------
#
# Each statement serves every send of a batch, so a batch of any size costs the
# same handful of round trips and one durable commit. Lock order, as above: the
# senders' coin rows in user id order (one statement), then diamond rows in
# (user, slot) order, so two batches never wait for each other in a cycle.


def claim_transfers(kind: str, claims: list[tuple[int, str, str]], now) -> dict[tuple, int]:
    """Insert a transfer per (initiator id, idempotency key, memo) whose key is free.

    Returns {(initiator id, key): transfer id} for the claims that got their
    row; a key its initiator used before is simply absent (a retry).
    """
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    suffix = connection.ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])
    head = (
        f"{insert} {_table(Transfer)} "
        "(kind, initiator_id, idempotency_key, memo, reference, created_at) VALUES "
    )
    created_at = _timestamp(now)
    rows = [
        [kind, initiator_id, key, memo[:200], "", created_at] for initiator_id, key, memo in claims
    ]
    claimed = {}
    with connection.cursor() as cursor:
        if connection.features.can_return_rows_from_bulk_insert:
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
            cursor.execute(
                f"{head}{values} {suffix} RETURNING id, initiator_id, idempotency_key",
                [value for row in rows for value in row],
            )
            for transfer_id, initiator_id, key in cursor.fetchall():
                claimed[(initiator_id, key)] = transfer_id
            return claimed
        for row in rows:  # no INSERT ... RETURNING (MySQL): one row at a time
            cursor.execute(f"{head}(%s, %s, %s, %s, %s, %s) {suffix}", row)
            if cursor.rowcount == 1:
                claimed[(row[1], row[2])] = cursor.lastrowid
    return claimed


def delete_transfers(transfer_ids: list[int]) -> None:
    """Give back the keys of claimed transfers that moved nothing (refused sends)."""
    if transfer_ids:
        Transfer.objects.filter(pk__in=transfer_ids).delete()


def lock_coins(user_ids: list[int]) -> dict[int, int]:
    """{user id: coins} for those users, their coin rows locked until COMMIT."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_id, amount FROM {_table(Balance)} "  # noqa: S608 -- as above
            f"WHERE currency = %s AND slot = 0 AND user_id IN ({_marks(user_ids)}) "
            f"ORDER BY user_id{lock}",
            [Currency.COINS.value, *user_ids],
        )
        return dict(cursor.fetchall())


def debit_locked(debits: dict[int, int]) -> None:
    """Take coins from rows `lock_coins` locked and found sufficient: {user id: coins}."""
    if not debits:
        return
    cases = " ".join(["WHEN %s THEN %s"] * len(debits))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Balance)} SET amount = amount - CASE user_id {cases} END "  # noqa: S608
            f"WHERE currency = %s AND slot = 0 AND user_id IN ({_marks(debits)})",
            [*(value for pair in debits.items() for value in pair), Currency.COINS.value, *debits],
        )
        if cursor.rowcount != len(debits):
            raise AssertionError("a locked coin row disappeared")  # the CHECK constraint's twin


def live_streams(room_ids: list[int]) -> dict[int, int]:
    """{room id: its live stream id} for those of the rooms that are live."""
    from rooms.models import Room

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, current_stream_id FROM {_table(Room)} "  # noqa: S608 -- as above
            f"WHERE status = %s AND current_stream_id IS NOT NULL AND id IN ({_marks(room_ids)})",
            [Room.Status.LIVE.value, *room_ids],
        )
        return dict(cursor.fetchall())


def closed_accounts(user_ids: list[int]) -> set[int]:
    """Those of the users whose account has been deactivated."""
    from django.contrib.auth import get_user_model

    if not user_ids:
        return set()
    user = get_user_model()
    key, active = user._meta.pk.column, user._meta.get_field("is_active").column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key} FROM {_table(user)} "  # noqa: S608 -- as above
            f"WHERE {active} = %s AND {key} IN ({_marks(user_ids)})",
            [False, *user_ids],
        )
        return {row[0] for row in cursor.fetchall()}


def previous_sends(sender_ids: list[int], combo_since) -> dict[int, PreviousSend]:
    """Each sender's last gift send, for combos; read under their coin row locks, so their
    earlier sends have committed and the last one really is the last."""
    table = _table(GiftSend)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.sender_id, g.room_id, g.gift_id, g.combo_id, g.combo_count, "  # noqa: S608
            f"g.combo_total, g.created_at >= %s FROM {table} g JOIN "
            f"(SELECT MAX(transfer_id) AS last FROM {table} "
            f"WHERE sender_id IN ({_marks(sender_ids)}) GROUP BY sender_id) t "
            "ON g.transfer_id = t.last",
            [_timestamp(combo_since), *sender_ids],
        )
        return {
            sender_id: PreviousSend(room_id, gift_id, combo_id, count, total, bool(recent))
            for sender_id, room_id, gift_id, combo_id, count, total, recent in cursor.fetchall()
        }


def insert_rows(instances: list) -> None:
    """INSERT new instances of one model, every field set, in one statement (no ids back).

    The ORM's `bulk_create()` compiles its statement on every call; for rows
    written on every gift send that cost more CPU than MariaDB's work. Values
    go through each field's own `get_db_prep_save`, as the ORM's do.
    """
    if not instances:
        return
    fields = instances[0]._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection)
        for instance in instances
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(type(instances[0]))} ({columns}) "  # noqa: S608 -- as above
            f"VALUES {', '.join([row] * len(instances))}",
            values,
        )
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


# --- Audit ---------------------------------------------------------------------------------


def audit() -> list[str]:
    """Every way the balances and the ledger disagree; empty when all is well.

    Checks, for all users: each balance equals the sum of its entries; no
    balance is negative; every entry's user has a balance row; each gift
    transfer debited exactly its price times quantity from the sender and
    credited exactly its diamonds to the recipient.
    """
    return [*_balance_problems(), *_gift_problems()]


def _balance_problems() -> list[str]:
    balances: dict[tuple[int, str], int] = {}
    for row in Balance.objects.values("user_id", "currency").annotate(total=Sum("amount")):
        balances[(row["user_id"], row["currency"])] = int(row["total"])
    sums: dict[tuple[int, str], int] = {}
    for row in LedgerEntry.objects.values("user_id", "currency").annotate(total=Sum("amount")):
        sums[(row["user_id"], row["currency"])] = int(row["total"])
    problems = [
        f"user {user_id} {currency}: balance {balances.get((user_id, currency), 0)} "
        f"but ledger sums to {sums.get((user_id, currency), 0)}"
        for user_id, currency in sorted(balances.keys() | sums.keys())
        if balances.get((user_id, currency), 0) != sums.get((user_id, currency), 0)
    ]
    negatives = Balance.objects.filter(amount__lt=0).values_list("user_id", "currency", "slot")
    problems += [f"user {u} {c} slot {s}: negative balance" for u, c, s in negatives]
    return problems


def _gift_problems() -> list[str]:
    entries: dict[int, list[tuple[int, str, int]]] = {}
    gift_entries = LedgerEntry.objects.filter(transfer__kind=Transfer.Kind.GIFT)
    for transfer_id, user_id, currency, amount in gift_entries.values_list(
        "transfer_id", "user_id", "currency", "amount"
    ).iterator(chunk_size=5000):
        entries.setdefault(transfer_id, []).append((user_id, currency, amount))
    problems = []
    sends = GiftSend.objects.values_list(
        "transfer_id", "sender_id", "recipient_id", "coins", "diamonds"
    ).iterator(chunk_size=5000)
    seen = set()
    for transfer_id, sender_id, recipient_id, coins, diamonds in sends:
        seen.add(transfer_id)
        expected = [(sender_id, Currency.COINS, -coins)]
        if diamonds:
            expected.append((recipient_id, Currency.DIAMONDS, diamonds))
        if sorted(entries.get(transfer_id, [])) != sorted(expected):
            problems.append(f"gift transfer {transfer_id}: entries do not match the gift sent")
    problems += [f"gift transfer {t}: entries without a gift send" for t in entries.keys() - seen]
    return problems
