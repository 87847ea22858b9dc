"""Status changes for open directory pages: the "directory" group of the channel layer.

A room going live or offline is announced to every open directory page
(rooms.consumers.DirectoryConsumer), which then refetches its grid of live cards.
These events are rare (a few a minute on a busy site), so the channel layer's
group send serves them, unlike the room sockets' per-message fan-out (realtime/fan_out.py).

`announce` is called by the services in rooms.services inside their transaction;
the event leaves only once it commits, and a channel layer that is down costs a
log line, never the status change itself.

A signed-in user's directory sockets also join a group of their own
(`user_group`), so apps above rooms can tell that user something on every page
without rooms knowing what (the notifications app's bell): `send_to_users` takes
ready frames, which the socket forwards as they are. Each signed-in socket counts
itself in a Redis hash (`directory:online`, user id -> open sockets), so a fan-out to
100,000 followers sends frames only to the few with a page open: one HMGET per
batch instead of a group send per follower. A web process that dies leaves its
counts up; that costs a wasted group send per such user, never a lost frame.
"""

import asyncio
import logging
from collections import Counter

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from infra.after_commit import after_commit
from realtime.redis_client import get_redis, get_sync_redis, redis_key
from rooms import events

log = logging.getLogger(__name__)

GROUP = "directory"
# Group sends in flight at once for `send_to_users`: each is two or three Redis round trips.
PERSONAL_SENDS_IN_FLIGHT = 64


# Embedded mode (no Redis): pages and workers share this one process.
_local_online: Counter = Counter()


def user_group(user_id: int) -> str:
    return f"directory.user.{user_id}"


def _online_key() -> str:
    return redis_key("directory", "online")


async def page_opened(user_id: int) -> None:
    client = get_redis()
    if client is None:
        _local_online[user_id] += 1
    else:
        await client.hincrby(_online_key(), str(user_id), 1)


async def page_closed(user_id: int) -> None:
    client = get_redis()
    if client is None:
        _local_online[user_id] -= 1
    else:
        await client.hincrby(_online_key(), str(user_id), -1)


def online_users(user_ids) -> set[int]:
    """Which of these users have a directory socket open (any page, any process)."""
    user_ids = list(user_ids)
    client = get_sync_redis()
    if client is None:
        return {uid for uid in user_ids if _local_online[uid] > 0}
    counts = client.hmget(_online_key(), [str(uid) for uid in user_ids]) if user_ids else []
    return {uid for uid, count in zip(user_ids, counts, strict=True) if count and int(count) > 0}


def announce(room) -> None:
    """Send `room.status` to every open directory page once the transaction commits."""
    event = events.room_status(room)
    after_commit(lambda: _send(event), "directory")


def _send(event: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(GROUP, event)
    except Exception:
        log.exception("could not announce %s of room %s to the directory", event, event["room"])


def send_to_users(frames: dict[int, dict]) -> None:
    """Send each user's frame to every directory socket they have open (any page, any
    process). Users with no socket open cost nothing but their share of one HMGET."""
    if not frames:
        return
    try:
        online = online_users(frames)
        if online:
            async_to_sync(_send_personal)({uid: frames[uid] for uid in online})
    except Exception:
        log.exception("could not send personal frames to %d users", len(frames))


async def _send_personal(frames: dict[int, dict]) -> None:
    layer = get_channel_layer()
    in_flight = asyncio.Semaphore(PERSONAL_SENDS_IN_FLIGHT)

    async def send(user_id: int, frame: dict) -> None:
        async with in_flight:
            await layer.group_send(user_group(user_id), {"type": "personal.frame", "frame": frame})

    await asyncio.gather(*(send(user_id, frame) for user_id, frame in frames.items()))
