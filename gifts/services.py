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
from chat.broadcast import publish_on_commit
from gifts import conf, events, gates, leaderboards, ledger, payments
from gifts.catalog import DEMO_CATALOG, catalog_entry, find_active_gift, room_catalog
from gifts.combos import continue_or_start
from gifts.errors import (
    BadAmount,
    BadIdempotencyKey,
    BadQuantity,
    IdempotencyKeyReused,
    NotSignedIn,
    PaymentFailed,
    RoomNotLive,
    SelfGift,
    SenderRestricted,
    UnknownGift,
    UnknownPackage,
)
from gifts.models import Currency, Gift, GiftSend, Transfer
from livesite.celery import app as celery_app
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
    _check_not_restricted(sender, room)
    try:
        send = _debit_and_credit(sender, room, gift, quantity, key)
    except IntegrityError as taken:
        # The key is taken: a retry, or a twin request that committed first. Answer as it did.
        return _replay_or_raise(sender, key, gift, quantity, room, otherwise=taken)
    return _receipt(send, gift, room.slug, replayed=False)


def _check_not_restricted(sender, room: Room) -> None:
    from moderation.errors import Restricted
    from moderation.services import check_not_restricted

    try:
        check_not_restricted(sender.pk, room.pk)
    except Restricted as refused:
        raise SenderRestricted(refused.message) from None


@ledger.retry_on_deadlock
@transaction.atomic
def _debit_and_credit(sender, room: Room, gift: Gift, quantity: int, key: str) -> GiftSend:
    now = timezone.now()
    coins = gift.price * quantity
    diamonds = coins * conf.broadcaster_share_percent() // 100
    # First, claim the idempotency key: a retry fails here (IntegrityError) before any other
    # check, so it is answered even if the room has ended since; a concurrent twin waits on
    # the first one's row lock, then fails here too.
    memo = f"{quantity} x {gift.name} from {sender.username} in {room.slug}"
    transfer_id = ledger.open_transfer(Transfer.Kind.GIFT, sender.pk, key, memo, now)
    stream_id = (
        Room.objects.filter(pk=room.pk, status=Room.Status.LIVE)
        .values_list("current_stream_id", flat=True)
        .first()
    )
    if stream_id is None:
        raise RoomNotLive()
    balance = ledger.debit_coins(sender.pk, coins)
    combo = continue_or_start(sender.pk, room.pk, gift.pk, quantity, now)
    send = GiftSend.objects.create(
        transfer_id=transfer_id,
        sender=sender,
        recipient_id=room.owner_id,
        room_id=room.pk,
        stream_id=stream_id,
        gift=gift,
        quantity=quantity,
        coins=coins,
        diamonds=diamonds,
        sender_balance_after=balance,
        combo_id=combo.id or transfer_id,
        combo_count=combo.count,
        combo_total=combo.total,
        created_at=now,
    )
    ledger.post_entries(
        transfer_id,
        [(sender.pk, Currency.COINS, -coins), (room.owner_id, Currency.DIAMONDS, diamonds)],
        now,
    )
    # Last statement before COMMIT: the broadcaster's row is the contended one.
    ledger.credit(room.owner_id, Currency.DIAMONDS, diamonds, ledger.earnings_slot(sender.pk))
    transaction.on_commit(lambda: _after_send(send, sender, room, gift))
    return send


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


def _after_send(send: GiftSend, sender, room: Room, gift: Gift) -> None:
    """After commit: boards, the room's frames, statistics. The money has moved already, so a
    failure here is logged, never raised (boards and statistics are rebuilt from the ledger)."""
    totals = {}
    try:
        totals = leaderboards.record(send)
    except Exception:
        log.exception("gifts: could not score transfer %s on the leaderboards", send.transfer_id)
    try:
        event = events.gift(send, catalog_entry(gift), sender, room.slug, totals)
        publish_on_commit(room.pk, event)
        _publish_leaderboards(room, send)
    except Exception:
        log.exception("gifts: could not publish transfer %s to the room", send.transfer_id)
    try:
        _schedule_statistics(send)
    except Exception:
        log.exception("gifts: could not schedule statistics for transfer %s", send.transfer_id)


def _publish_leaderboards(room: Room, send: GiftSend) -> None:
    # At most one snapshot per room and interval; the gift frames carry totals in between.
    interval = conf.leaderboard_publish_interval()
    if not gates.pass_once(f"leaderboard:{room.pk}", interval, recheck=interval / 4):
        return
    size = conf.leaderboard_room_size()
    boards = [leaderboards.broadcaster_board(room.owner_id)]
    if send.stream_id:
        boards.insert(0, leaderboards.stream_board(send.stream_id))
    for board in boards:
        publish_on_commit(room.pk, events.leaderboard(room.slug, leaderboards.page(board, 0, size)))


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
    snapshot = {
        "broadcaster": leaderboards.page(leaderboards.broadcaster_board(room.owner_id), 0, size)
    }
    if room.current_stream_id:
        stream = leaderboards.stream_board(room.current_stream_id)
        snapshot["stream"] = leaderboards.page(stream, 0, size)
    return snapshot


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
    ledger.post_entries(transfer.pk, [(user.pk, Currency.COINS, amount)], transfer.created_at)
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
    # The provider gets the key too, so a retry is not charged twice on its side either.
    result = payments.provider().charge(user, package, key)
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
