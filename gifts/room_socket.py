"""`gift.send` on the room socket: registered with chat.socket_frames in GiftsConfig.ready().

The gifts app does the money and every rule of a send (`gifts.services.sending.send_gift`,
the same call REST makes, rate limit included); this adapts the socket's frame to it
and its answer to a `gift.sent` frame. A refusal rises to the socket's one error
mapping, tagged with the send it answers (`for`, `idempotency_key`) so the page's gift
tray, not the chat, shows it.

The sender is the user the socket resolved at its handshake (a change of their rights
closes the socket, accounts.services), and the room is read once per socket, at its
first gift: a send then costs no query before its batch. What may change under a send
(the room going offline, the sender's coins, a ban) is checked inside the batch
(gifts.services.sending), not here.
"""

from channels.db import database_sync_to_async

from gifts import conf, events
from gifts.errors import NotSignedIn
from infra import thread_pools
from realtime.errors import DomainError


def _send_gift(sender, room, gift, quantity: int, key: str) -> dict:
    from gifts.services import sending

    return sending.send_gift(sender, room, gift, quantity, key).as_dict()


def _room(room_id: int):
    from rooms.models import Room

    return Room.objects.get(pk=room_id)


async def send_gift(session, sender, room, gift, quantity: int, idempotency_key: str) -> dict:
    """Send a gift from the socket's session (chat.services.Session), user and room."""
    if session.user is None:
        raise NotSignedIn("Log in to send gifts.")
    # Not thread-sensitive: on the one thread Channels gives database work by default, every
    # send of the process would wait for the one before; on the gift pool's threads concurrent
    # sends meet in gifts' group commit and share a transaction. Their own pool: a burst of
    # sends never holds up the origin's file reads (infra/thread_pools.py).
    executor = thread_pools.pool("gift-send", conf.send_threads())
    send = database_sync_to_async(_send_gift, thread_sensitive=False, executor=executor)
    return await send(sender, room, gift, quantity, idempotency_key)


async def on_gift_send(socket, gift, quantity: int, idempotency_key: str) -> None:
    try:
        if socket.session.user is not None and getattr(socket, "gift_room", None) is None:
            socket.gift_room = await database_sync_to_async(_room)(socket.session.room_id)
        receipt = await send_gift(
            socket.session,
            socket.scope["user"],
            getattr(socket, "gift_room", None),
            gift,
            quantity,
            idempotency_key,
        )
    except DomainError as error:
        error.details.update({"for": "gift.send", "idempotency_key": idempotency_key})
        raise
    await socket.send_event(events.gift_sent(receipt, idempotency_key))
