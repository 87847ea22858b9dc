"""Sending a gift: the request's checks, the group commit that writes it, the receipt.

`send_gift` is the one way a gift is sent: the room socket (gifts/room_socket.py) and
REST (gifts/api.py) call it, and it applies every rule itself (the sender's rate,
bans and timeouts, the room being live, the coins). The money moves in
`_write_sends`, a batch at a time (gifts/group_commit.py, gifts/ledger.py); what
follows the commit (boards, the room's frames, statistics) is gifts/services/after_send.py.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from chat import limits
from gifts import combos, conf, ledger
from gifts.catalog import catalog_entry, find_active_gift
from gifts.errors import (
    BadQuantity,
    IdempotencyKeyReused,
    InsufficientFunds,
    NotSignedIn,
    RoomNotLive,
    SelfGift,
    TooManySends,
    UnknownGift,
)
from gifts.group_commit import GroupCommit, Order
from gifts.idempotency import checked_key
from gifts.models import Currency, Gift, GiftSend, Transfer
from gifts.services import after_send
from infra.after_commit import after_commit
from moderation import services as moderation
from rooms.models import Room

log = logging.getLogger(__name__)

# Sends a second per sender after a burst, whichever way they come in.
SEND_RATE_PER_SECOND = 5
SEND_BURST = 20


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


def send_gift(sender, room: Room, gift, quantity, idempotency_key) -> GiftReceipt:
    """Send `quantity` of `gift` (an id, a slug or a Gift) to the live `room`'s broadcaster.

    Debits the sender's coins and credits the broadcaster's diamonds in one
    transaction; a retry with the same idempotency key answers with the first
    send's receipt and charges nothing. Raises a `gifts.errors.GiftError`, or
    `moderation.errors.Restricted` for a banned or timed-out sender.
    """
    if not permissions.is_signed_in(sender):
        raise NotSignedIn()
    key = checked_key(idempotency_key)
    quantity = _checked_quantity(quantity)
    try:
        gift = find_active_gift(gift)
    except UnknownGift as unknown:
        # A retry gets its answer even if the gift was withdrawn since. It reads the
        # database outside any batch, so it spends its token here.
        _check_send_rate(sender)
        return _replay_or_raise(sender, key, gift, quantity, room, otherwise=unknown)
    if permissions.owns_room(sender, room):
        raise SelfGift()
    order = Order(sender.pk, _Send(sender, room, gift, quantity, key))
    try:
        outcome = _group_commit.submit(order)
    except TooManySends as too_fast:
        # A retry of a send that went through gets its receipt, even past the rate: after
        # a reconnect the room page resends every unanswered key at once.
        return _replay_or_raise(sender, key, gift, quantity, room, otherwise=too_fast)
    if outcome is KEY_TAKEN:
        # A retry, or a twin request that committed first: answer as it was answered.
        return _replay_or_raise(sender, key, gift, quantity, room, otherwise=IntegrityError(key))
    return _receipt(outcome, gift, room.slug, replayed=False)


def _check_send_rate(sender) -> None:
    wait = limits.take_token_blocking(f"gifts:{sender.pk}", SEND_RATE_PER_SECOND, SEND_BURST)
    if wait:
        raise TooManySends(retry_after=wait)


def _refuse_too_fast(orders: list[Order]) -> None:
    """Every way in (the room socket, REST) spends from the sender's one bucket: the batch's
    senders (one send each) in one Redis round trip, not one per send before the batch."""
    keys = [f"gifts:{order.payload.sender.pk}" for order in orders]
    waits = limits.take_tokens_blocking(keys, SEND_RATE_PER_SECOND, SEND_BURST)
    for order, wait in zip(orders, waits, strict=True):
        if wait:
            order.outcome = TooManySends(retry_after=wait)


def _refuse_restricted(orders: list[Order]) -> None:
    """Refuse the sends of banned or timed-out senders (one cache round trip for the batch)
    and of accounts deactivated since the socket read its user at the handshake (one query)."""
    pairs = [(order.payload.sender.pk, order.payload.room.pk) for order in orders]
    for order, refusal in zip(orders, moderation.refusals(pairs), strict=True):
        if refusal is not None:
            order.outcome = refusal
    closed = ledger.closed_accounts(
        [order.payload.sender.pk for order in orders if order.outcome is None]
    )
    for order in orders:
        if order.payload.sender.pk in closed:
            order.outcome = NotSignedIn()


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


def _write_sends(orders: list[Order]):
    """Debit each sender and credit each broadcaster, all of `orders` in one transaction.

    Sets each order's outcome: its GiftSend, KEY_TAKEN, or the error refusing it (a
    GiftError, or moderation's Restricted; a refused send changes nothing). Statements
    are per batch, not per send (see gifts.ledger); every send of the batch commits at
    once. Returns the
    batch's after-commit work for the group commit to run once everyone has
    their answer (inside a caller's own transaction: on that one's commit).
    """
    if len({order.key for order in orders}) != len(orders):
        raise ValueError("one send per sender in a batch: the debits are per sender")
    for order in orders:
        order.outcome = None
    # Outside the deadlock retry: a batch written twice spends each bucket once.
    _refuse_too_fast(orders)
    return _write_allowed([order for order in orders if order.outcome is None])


@ledger.retry_on_deadlock
def _write_allowed(orders: list[Order]):
    if not orders:
        return None
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
        after_commit(lambda: after_send.after_sends(accepted), "gift_events")
        return None
    return lambda: after_send.after_sends(accepted)


_group_commit = GroupCommit(_write_sends)


def _memo(send: _Send) -> str:
    return f"{send.quantity} x {send.gift.name} from {send.sender.username} in {send.room.slug}"


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
