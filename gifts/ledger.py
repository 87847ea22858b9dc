"""Posting transfers to balances and the ledger, and proving the two agree.

Every function that writes here runs inside the caller's transaction and
writes a balance change and its ledger entry together, so at every commit
each balance equals the sum of its user's entries in that currency.

Debits are one conditional UPDATE (`amount = amount - n WHERE amount >= n`)
rather than SELECT ... FOR UPDATE and a second write: the check and the write
are one statement under the row lock, so two concurrent debits can never both
see the same balance, it costs one round trip less while the lock is held, and
it behaves the same on SQLite (which has no FOR UPDATE). The CHECK constraint
on `Balance.amount` is a second line of defence.

The hot row: on a big stream every gift credits the same broadcaster, and an
InnoDB row lock is held until COMMIT (an fsync, ~1.7 ms here), so one row caps
a broadcaster at a few hundred gifts a second. Diamonds are therefore credited
to one of `GIFTS_EARNINGS_SLOTS` rows picked by sender, and the balance is
their sum. Coins stay in one row: a debit must check the whole balance.

Lock order, which keeps gift sends free of deadlocks: a transaction locks at
most one coin row (the sender's) and then diamond rows; nothing locks a
diamond row before a coin row.
"""

import functools
import time

from django.db import OperationalError, connection, transaction
from django.db.models import Sum

from gifts import conf
from gifts.errors import InsufficientFunds
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


def open_transfer(kind: str, initiator_id: int | None, key: str | None, memo: str, now) -> int:
    """Insert a transfer and return its id; IntegrityError when the initiator used the key."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Transfer)} "  # noqa: S608 -- table names only; values are parameters
            "(kind, initiator_id, idempotency_key, memo, reference, created_at) "
            "VALUES (%s, %s, %s, %s, '', %s)",
            [kind, initiator_id, key, memo[:200], _timestamp(now)],
        )
        return cursor.lastrowid


def debit_coins(user_id: int, amount: int) -> int:
    """Take `amount` coins from the user or raise InsufficientFunds; returns the new balance."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Balance)} SET amount = amount - %s "  # noqa: S608 -- as above
            "WHERE user_id = %s AND currency = %s AND slot = 0 AND amount >= %s",
            [amount, user_id, Currency.COINS.value, amount],
        )
        if cursor.rowcount != 1:
            raise InsufficientFunds(needed=amount, balance=balance_of(user_id, Currency.COINS))
        # Our own uncommitted write, read under the row lock we hold: exact.
        cursor.execute(
            f"SELECT amount FROM {_table(Balance)} "  # noqa: S608 -- as above
            "WHERE user_id = %s AND currency = %s AND slot = 0",
            [user_id, Currency.COINS.value],
        )
        return cursor.fetchone()[0]


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


def post_entries(transfer_id: int, entries: list[tuple[int, str, int]], now) -> None:
    """Append the transfer's entries: (user_id, currency, signed amount); zero amounts skipped."""
    rows = [(user_id, str(currency), amount) for user_id, currency, amount in entries if amount]
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    parameters = []
    created_at = _timestamp(now)
    for user_id, currency, amount in rows:
        parameters += [transfer_id, user_id, currency, amount, created_at]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(LedgerEntry)} "  # noqa: S608 -- as above
            f"(transfer_id, user_id, currency, amount, created_at) VALUES {values}",
            parameters,
        )


def _timestamp(moment):
    return connection.ops.adapt_datetimefield_value(moment)


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
