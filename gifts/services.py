"""Gift and wallet actions: send a gift, buy coins, grant coins, seed the demo catalog.

The only place that moves value. Views, the REST API, the chat socket,
admin and commands call these and turn `gifts.errors` into their own answers.
Each action writes in one transaction and publishes its events after commit.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from gifts import combos, conf, events, gates, leaderboards, ledger, payments
from gifts.catalog import DEMO_CATALOG, catalog_entry, find_active_gift, room_catalog
from gifts.errors import (
    BadAmount,
    BadIdempotencyKey,
    BadQuantity,
    IdempotencyKeyReused,
    InsufficientFunds,
    NotSignedIn,
    PaymentFailed,
    PaymentsNotSetUp,
    RoomNotLive,
    SelfGift,
    SenderRestricted,
    UnknownGift,
    UnknownPackage,
)
from gifts.group_commit import GroupCommit, Order
from gifts.models import Currency, Gift, GiftSend, Transfer
from infra.after_commit import after_commit
from livesite.celery import app as celery_app
from realtime.publish import publish_many, publish_on_commit
from rooms.models import Room

__all__ = [
    "GiftReceipt",
    "Purchase",
    "Wallet",
    "buy_coins",
    "grant_coins",
    "leaderboard_snapshot",
    "room_catalog",
    "seed_demo_catalog",
    "send_gift",
    "top_up_to",
    "wallet_of",
]

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
STATS_SLACK = 2  # seconds


@dataclass(frozen=True)
class GiftReceipt:
    """What the sender is told: the socket's answer and the REST body are built from it."""

    transfer_id: int
    gift: dict
    quantity: int
    coins: int
    balance: int  # the sender's coins right after this send
    combo: dict
    room: str
    stream: int | None
    sent_at: datetime
    replayed: bool  # True when this answers a retry of an earlier send with the same key

    def as_dict(self) -> dict:
        return {
            "transfer_id": str(self.transfer_id),
            "gift": self.gift,
            "quantity": self.quantity,
            "coins": self.coins,
            "balance": self.balance,
            "combo": self.combo,
            "room": self.room,
            "stream": self.stream,
            "sent_at": self.sent_at.isoformat(),
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class Purchase:
    transfer_id: int
    coins: int
    balance: int
    replayed: bool


@dataclass(frozen=True)
class Wallet:
    coins: int
    diamonds: int

    def as_dict(self) -> dict:
        return {"coins": self.coins, "diamonds": self.diamonds}


# --- Sending -------------------------------------------------------------------------------


def send_gift(sender, room: Room, gift, quantity, idempotency_key) -> GiftReceipt:
    """Send `quantity` of `gift` (an id, a slug or a Gift) to the live `room`'s broadcaster.

    Debits the sender's coins and credits the broadcaster's diamonds in one
    transaction; a retry with the same idempotency key answers with the first
    send's receipt and charges nothing. Raises a `gifts.errors.GiftError`.
    """
    if not permissions.is_signed_in(sender):
        raise NotSignedIn()
    key = _checked_key(idempotency_key)
    quantity = _checked_quantity(quantity)
    try:
        gift = find_active_gift(gift)
    except UnknownGift as unknown:
        # A retry gets its answer even if the gift was withdrawn since.
        return _replay_or_raise(sender, key, gift, quantity, room, otherwise=unknown)
    if permissions.owns_room(sender, room):
        raise SelfGift()
    order = Order(sender.pk, _Send(sender, room, gift, quantity, key))
    outcome = _group_commit.submit(order)
    if outcome is KEY_TAKEN:
        # A retry, or a twin request that committed first: answer as it was answered.
        return _replay_or_raise(sender, key, gift, quantity, room, otherwise=IntegrityError(key))
    return _receipt(outcome, gift, room.slug, replayed=False)


def _refuse_restricted(orders: list[Order]) -> None:
    """Refuse the sends of banned or timed-out senders: one cache round trip for the batch."""
    from moderation.services import refusals

    pairs = [(order.payload.sender.pk, order.payload.room.pk) for order in orders]
    for order, refusal in zip(orders, refusals(pairs), strict=True):
        if refusal is not None:
            order.outcome = SenderRestricted(refusal.message)


@dataclass(frozen=True)
class _Send:
    sender: object
    room: Room
    gift: Gift
    quantity: int
    key: str

    @property
    def coins(self) -> int:
        return self.gift.price * self.quantity


KEY_TAKEN = object()  # the outcome of a send whose idempotency key was used before


@ledger.retry_on_deadlock
def _write_sends(orders: list[Order]):
    """Debit each sender and credit each broadcaster, all of `orders` in one transaction.

    Sets each order's outcome: its GiftSend, KEY_TAKEN, or the GiftError refusing
    it (a refused send changes nothing). Statements are per batch, not per send
    (see gifts.ledger); every send of the batch commits at once. Returns the
    batch's after-commit work for the group commit to run once everyone has
    their answer (inside a caller's own transaction: on that one's commit).
    """
    if len({order.key for order in orders}) != len(orders):
        raise ValueError("one send per sender in a batch: the debits are per sender")
    for order in orders:
        order.outcome = None  # a deadlock retry starts over
    _refuse_restricted(orders)
    # In sender order, so that two batches claim keys and lock rows in the same order.
    orders = sorted((order for order in orders if order.outcome is None), key=lambda o: o.key)
    if not orders:
        return None
    nested = transaction.get_connection().in_atomic_block
    now = timezone.now()
    share = conf.broadcaster_share_percent()
    with transaction.atomic():
        # First, claim the idempotency keys: a retry is answered even if the room has ended
        # since; a concurrent twin waits on the first one's row lock, then finds its key taken.
        claimed = ledger.claim_transfers(
            Transfer.Kind.GIFT,
            [
                (order.payload.sender.pk, order.payload.key, _memo(order.payload))
                for order in orders
            ],
            now,
        )
        pending = []
        for order in orders:
            send = order.payload
            transfer_id = claimed.get((send.sender.pk, send.key))
            if transfer_id is None:
                order.outcome = KEY_TAKEN
            else:
                pending.append((order, transfer_id))
        if not pending:
            return None
        senders = sorted({order.key for order, _ in pending})
        coins = ledger.lock_coins(senders)
        streams = ledger.live_streams(sorted({order.payload.room.pk for order, _ in pending}))
        previous = ledger.previous_sends(senders, combos.window_start(now))
        accepted, refused = [], []
        for order, transfer_id in pending:
            send = order.payload
            stream_id = streams.get(send.room.pk)
            balance = coins.get(send.sender.pk, 0)
            if stream_id is None:
                order.outcome = RoomNotLive()  # the answer that matters first
            elif balance < send.coins:
                order.outcome = InsufficientFunds(needed=send.coins, balance=balance)
            if order.outcome is not None:
                refused.append(transfer_id)
                continue
            combo = combos.continue_or_start(
                previous.get(send.sender.pk), send.room.pk, send.gift.pk, send.quantity
            )
            order.outcome = GiftSend(
                transfer_id=transfer_id,
                sender=send.sender,
                recipient_id=send.room.owner_id,
                room_id=send.room.pk,
                stream_id=stream_id,
                gift=send.gift,
                quantity=send.quantity,
                coins=send.coins,
                diamonds=send.coins * share // 100,
                sender_balance_after=balance - send.coins,
                combo_id=combo.id or transfer_id,
                combo_count=combo.count,
                combo_total=combo.total,
                created_at=now,
            )
            accepted.append(order)
        ledger.delete_transfers(refused)
        if not accepted:
            return None
        gifts = [order.outcome for order in accepted]
        ledger.debit_locked({gift.sender_id: gift.coins for gift in gifts})
        ledger.insert_rows(gifts)
        ledger.post_entries(
            [
                entry
                for gift in gifts
                for entry in (
                    (gift.transfer_id, gift.sender_id, Currency.COINS, -gift.coins),
                    (gift.transfer_id, gift.recipient_id, Currency.DIAMONDS, gift.diamonds),
                )
            ],
            now,
        )
        # Last statements before COMMIT: the broadcasters' rows are the contended ones.
        earnings: dict[tuple[int, int], int] = {}
        for gift in gifts:
            row = (gift.recipient_id, ledger.earnings_slot(gift.sender_id))
            earnings[row] = earnings.get(row, 0) + gift.diamonds
        for (recipient_id, slot), diamonds in sorted(earnings.items()):
            ledger.credit(recipient_id, Currency.DIAMONDS, diamonds, slot)
    if nested:
        after_commit(lambda: _after_sends(accepted), "gift_events")
        return None
    return lambda: _after_sends(accepted)


_group_commit = GroupCommit(_write_sends)


def _memo(send: _Send) -> str:
    return f"{send.quantity} x {send.gift.name} from {send.sender.username} in {send.room.slug}"


def _checked_key(key) -> str:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise BadIdempotencyKey()
    return key


def _checked_quantity(quantity) -> int:
    allowed = conf.quantities()
    if isinstance(quantity, str) and quantity.strip().isdigit():
        quantity = int(quantity)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity not in allowed:
        raise BadQuantity(f"Choose how many to send: {', '.join(map(str, allowed))}.")
    return quantity


def _replay_or_raise(
    sender, key: str, gift, quantity: int, room: Room, otherwise: Exception
) -> GiftReceipt:
    """The receipt of the earlier send with this key; raises `otherwise` when there is none."""
    transfer = (
        Transfer.objects.filter(initiator=sender, idempotency_key=key)
        .select_related("gift_send__gift")
        .first()
    )
    if transfer is None:
        raise otherwise
    send = getattr(transfer, "gift_send", None) if transfer.kind == Transfer.Kind.GIFT else None
    asked = gift.pk if isinstance(gift, Gift) else str(gift).strip()
    same = send is not None and (
        str(asked) in (str(send.gift_id), send.gift.slug)
        and send.quantity == quantity
        and send.room_id == room.pk
    )
    if not same:
        raise IdempotencyKeyReused()
    return _receipt(send, send.gift, room.slug, replayed=True)


def _receipt(send: GiftSend, gift: Gift, room_slug: str, replayed: bool) -> GiftReceipt:
    return GiftReceipt(
        transfer_id=send.transfer_id,
        gift=catalog_entry(gift),
        quantity=send.quantity,
        coins=send.coins,
        balance=send.sender_balance_after,
        combo={"id": str(send.combo_id), "count": send.combo_count, "total": send.combo_total},
        room=room_slug,
        stream=send.stream_id,
        sent_at=send.created_at,
        replayed=replayed,
    )


def _after_sends(orders: list[Order]) -> None:
    """After commit: boards, the room's frames, statistics, for a batch's sends in a few Redis
    round trips. The money has moved already, so a failure here is logged, never raised
    (boards and statistics are rebuilt from the ledger), and one part failing does not
    stop the others."""
    sends = [order.outcome for order in orders]
    totals = [{} for _ in sends]
    try:
        totals = leaderboards.record_many(sends)
    except Exception:
        log.exception("gifts: could not score transfers %s", [s.transfer_id for s in sends])
    frames = []
    for order, send, total in zip(orders, sends, totals, strict=True):
        try:
            gift, sender, room = order.payload.gift, order.payload.sender, order.payload.room
            frames.append(
                (send.room_id, events.gift(send, catalog_entry(gift), sender, room.slug, total))
            )
        except Exception:
            log.exception("gifts: could not describe transfer %s", send.transfer_id)
    try:
        publish_many(frames)
    except Exception:
        log.exception("gifts: could not publish transfers %s", [s.transfer_id for s in sends])
    for order, send in zip(orders, sends, strict=True):
        try:
            _publish_leaderboards(order.payload.room, send)
        except Exception:
            log.exception("gifts: could not publish the boards after %s", send.transfer_id)
        try:
            _schedule_statistics(send)
        except Exception:
            log.exception("gifts: could not schedule statistics for %s", send.transfer_id)


def _publish_leaderboards(room: Room, send: GiftSend) -> None:
    # At most one snapshot per room and interval; the gift frames carry totals in between.
    interval = conf.leaderboard_publish_interval()
    if not gates.pass_once(f"leaderboard:{room.pk}", interval, recheck=interval / 4):
        return
    size = conf.leaderboard_room_size()
    boards = [leaderboards.broadcaster_board(room.owner_id)]
    if send.stream_id:
        boards.insert(0, leaderboards.stream_board(send.stream_id))
    for page in leaderboards.pages(boards, 0, size):
        publish_on_commit(room.pk, events.leaderboard(room.slug, page))


def _schedule_statistics(send: GiftSend) -> None:
    from gifts import tasks  # tasks import services' neighbours; keep the import graph acyclic

    eager = celery_app.conf.task_always_eager
    delay = conf.stats_delay_seconds()
    # With a worker: one queued recomputation per stream (and day) per `delay` seconds, run
    # STATS_SLACK after the window closes so it covers every send of the window (a process
    # that lost the gate stops asking for less than the slack). Eager: at once, every send.
    countdown = 0 if eager else delay + STATS_SLACK
    day = timezone.localdate(send.created_at).isoformat()

    def due(name: str) -> bool:
        return eager or gates.pass_once(f"stats:{name}", delay, recheck=STATS_SLACK / 2)

    if send.stream_id and due(f"stream:{send.stream_id}"):
        tasks.refresh_stream_stats.apply_async(
            (send.stream_id, send.recipient_id), countdown=countdown
        )
    if due(f"day:{send.recipient_id}:{day}"):
        tasks.refresh_daily_stats.apply_async((send.recipient_id, day), countdown=countdown)


def leaderboard_snapshot(room: Room, size: int | None = None) -> dict:
    """The room's boards for a first render: this stream's gifters and the broadcaster's."""
    size = size or conf.leaderboard_room_size()
    boards = [leaderboards.broadcaster_board(room.owner_id)]
    if room.current_stream_id:
        boards.append(leaderboards.stream_board(room.current_stream_id))
    return dict(zip(["broadcaster", "stream"], leaderboards.pages(boards, 0, size), strict=False))


# --- Coins in ------------------------------------------------------------------------------


def grant_coins(user, amount, reason: str, by=None, idempotency_key: str | None = None):
    """Give `user` coins (admin top-up, demo coins); a Transfer of kind grant.

    With an idempotency key (the admin form sends one), a repeat grants nothing
    and returns the first transfer.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BadAmount()
    if amount > conf.max_grant():
        raise BadAmount(f"At most {conf.max_grant()} coins can be granted at once.")
    if idempotency_key is None:
        return _credit_coins(user, amount, Transfer.Kind.GRANT, reason, by, None)
    key = _checked_key(idempotency_key)
    try:
        return _credit_coins(user, amount, Transfer.Kind.GRANT, reason, by, key)
    except IntegrityError:
        # Granted already (a double-submitted form): the same grant, or a misused key.
        earlier = Transfer.objects.filter(initiator=by, idempotency_key=key).first()
        entry = earlier.entries.first() if earlier else None
        if entry is None or (earlier.kind, entry.user_id, entry.amount) != (
            Transfer.Kind.GRANT,
            user.pk,
            amount,
        ):
            raise IdempotencyKeyReused() from None
        return earlier


def top_up_to(user, target: int, reason: str) -> int:
    """Grant what `user` lacks to hold `target` coins (so `manage.py demo` can run again)."""
    missing = target - wallet_of(user).coins
    if missing > 0:
        grant_coins(user, missing, reason)
    return max(missing, 0)


@ledger.retry_on_deadlock
@transaction.atomic
def _credit_coins(user, amount, kind, memo, initiator, key, reference="") -> Transfer:
    transfer = Transfer.objects.create(
        kind=kind,
        initiator=initiator,
        idempotency_key=key,
        memo=(memo or "")[:200],
        reference=reference,
    )
    ledger.post_entries([(transfer.pk, user.pk, Currency.COINS, amount)], transfer.created_at)
    ledger.credit(user.pk, Currency.COINS, amount)
    return transfer


def buy_coins(user, package_id: str, idempotency_key) -> Purchase:
    """Charge the user through the payment provider, then credit the package's coins."""
    if not permissions.is_signed_in(user):
        raise NotSignedIn("Log in to buy coins.")
    key = _checked_key(idempotency_key)
    package = payments.find_package(package_id)
    if package is None:
        raise UnknownPackage()
    earlier = _earlier_purchase(user, key, package)
    if earlier is not None:
        return earlier
    provider = payments.provider()
    if not payments.may_sell(provider):
        raise PaymentsNotSetUp()
    # The provider gets the key too, so a retry is not charged twice on its side either.
    result = provider.charge(user, package, key)
    if not result.approved:
        raise PaymentFailed(result.message or None)
    memo = f"{package.coins} coins for {package.price} {conf.currency_symbol()}"
    try:
        transfer = _credit_coins(
            user, package.coins, Transfer.Kind.PURCHASE, memo, user, key, result.reference
        )
    except IntegrityError:
        earlier = _earlier_purchase(user, key, package)
        if earlier is None:
            raise
        return earlier
    return Purchase(transfer.pk, package.coins, wallet_of(user).coins, replayed=False)


def _earlier_purchase(user, key: str, package) -> Purchase | None:
    transfer = Transfer.objects.filter(initiator=user, idempotency_key=key).first()
    if transfer is None:
        return None
    entry = transfer.entries.filter(user=user, currency=Currency.COINS).first()
    if transfer.kind != Transfer.Kind.PURCHASE or entry is None or entry.amount != package.coins:
        raise IdempotencyKeyReused()
    return Purchase(transfer.pk, package.coins, wallet_of(user).coins, replayed=True)


# --- Reading -------------------------------------------------------------------------------


def wallet_of(user) -> Wallet:
    return Wallet(
        coins=ledger.balance_of(user.pk, Currency.COINS),
        diamonds=ledger.balance_of(user.pk, Currency.DIAMONDS),
    )


# --- Demo ----------------------------------------------------------------------------------


def seed_demo_catalog() -> list[Gift]:
    """Create the demo gifts that are missing (gifts edited in admin are left as they are)."""
    gifts = []
    for order, (slug, name, price, tier, animation) in enumerate(DEMO_CATALOG):
        gift, _ = Gift.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "price": price,
                "tier": tier,
                "animation": animation,
                "artwork": f"gifts/art/{slug}.svg",
                "sort_order": order * 10,
            },
        )
        gifts.append(gift)
    return gifts
