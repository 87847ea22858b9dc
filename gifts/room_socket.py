"""`gift.send` on the room socket: registered with chat.socket_frames in GiftsConfig.ready().

The gifts app does the money and every rule of a send (`gifts.services.sending.send_gift`,
the same call REST makes, rate limit included); this adapts the socket's frame to it
and its answer to a `gift.sent` frame. A refusal rises to the socket's one error
mapping, tagged with the send it answers (`for`, `idempotency_key`) so the page's gift
tray, not the chat, shows it.
"""

from channels.db import database_sync_to_async

from gifts import conf, events
from gifts.errors import NotSignedIn
from infra import thread_pools
from realtime.errors import DomainError


def _send_gift(user_id: int, room_id: int, gift, quantity: int, key: str) -> dict:
    from accounts.models import User
    from gifts.services import sending
    from rooms.models import Room

    sender = User.objects.get(pk=user_id)
    room = Room.objects.get(pk=room_id)
    return sending.send_gift(sender, room, gift, quantity, key).as_dict()


async def send_gift(session, gift, quantity: int, idempotency_key: str) -> dict:
    """Send a gift from the socket's session (chat.services.Session)."""
    if session.user is None:
        raise NotSignedIn("Log in to send gifts.")
    # Not thread-sensitive: on the one thread Channels gives database work by default, every
    # send of the process would wait for the one before; on the gift pool's threads concurrent
    # sends meet in gifts' group commit and share a transaction. Their own pool: a burst of
    # sends never holds up the origin's file reads (infra/thread_pools.py).
    executor = thread_pools.pool("gift-send", conf.send_threads())
    send = database_sync_to_async(_send_gift, thread_sensitive=False, executor=executor)
    return await send(session.user_id, session.room_id, gift, quantity, idempotency_key)


async def on_gift_send(socket, gift, quantity: int, idempotency_key: str) -> None:
    try:
        receipt = await send_gift(socket.session, gift, quantity, idempotency_key)
    except DomainError as error:
        error.details.update({"for": "gift.send", "idempotency_key": idempotency_key})
        raise
    await socket.send_event(events.gift_sent(receipt, idempotency_key))
