"""Publishing events to everyone in a room, across every web process.

The site's one way to send a real-time event: every app publishes through here,
and this module knows no event types (a frame is a dict with a `type`).

Each web process keeps one hub per room with viewers on it (the room socket's app,
chat, keeps them in chat.hub and plugs them in with `deliver_locally_with`). With
Redis, an event is published once on the room's pub/sub channel and every
process with viewers in that room receives it once: it crosses Redis once per
process, not once per viewer, and travels already encoded, so the hub writes
the same text to every local socket without encoding it again.

Plain Redis pub/sub rather than the Channels layer: a layer receive costs three
Redis round trips in a row, each waiting for an event-loop turn that a big
fan-out makes long, so under load the hub fell behind the room (measured in
bench/chat_load.py; docs/benchmarks.md). With embedded defaults (no Redis, one
process) events go straight to this process's hubs, through the delivery the room
socket's app registered (`deliver_locally_with`, from its AppConfig.ready()).

On a Redis Cluster (settings REDIS_CLUSTER_NODES) events go by sharded pub/sub
(SPUBLISH): a room's channel lives on the master serving its slot, and only that
master carries its events (realtime.sharded_pubsub subscribes).

Services publish after their transaction commits (`publish_on_commit`), never
before, so no viewer ever sees an event whose data was rolled back.
"""

import json

from asgiref.sync import async_to_sync

from infra.after_commit import after_commit
from realtime.redis_client import get_redis, get_sync_redis, is_cluster, redis_key


async def _nowhere(*args) -> None:
    """No room socket on this process: nobody to deliver to."""


_deliver_to_room = _nowhere
_deliver_to_users = _nowhere


def deliver_locally_with(to_room, to_users) -> None:
    """Where events go without Redis: `to_room(room_id, payload)` and `to_users(payload)`,
    both coroutines. The app that owns the room socket registers them once."""
    global _deliver_to_room, _deliver_to_users
    _deliver_to_room, _deliver_to_users = to_room, to_users


def _publisher(client, pipe=None):
    """PUBLISH, or SPUBLISH on a cluster (of `pipe`, a pipeline of `client`, if given)."""
    target = client if pipe is None else pipe
    return target.spublish if is_cluster(client) else target.publish


def encode(event: dict) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def room_channel(room_id: int) -> str:
    return redis_key("room", room_id)


def room_of_channel(channel: str) -> int:
    return int(channel.rsplit(":", 1)[1])


def users_channel() -> str:
    """Every web process listens here for events about a user, whatever rooms they are in."""
    return redis_key("users")


async def apublish_to_user(event: dict) -> None:
    """Send a control event about `event["user_id"]` to every web process."""
    payload = encode(event)
    client = get_redis()
    if client is not None:
        await _publisher(client)(users_channel(), payload)
        return
    await _deliver_to_users(payload)


def publish_to_user(event: dict) -> None:
    """The same from synchronous code."""
    client = get_sync_redis()
    if client is None:
        async_to_sync(apublish_to_user)(event)
        return
    _publisher(client)(users_channel(), encode(event))


def publish_to_user_on_commit(event: dict) -> None:
    after_commit(lambda: publish_to_user(event), "publish")


async def apublish(room_id: int, event: dict) -> None:
    """Send `event` (a protocol frame: a dict with a `type`) to every viewer of the room."""
    payload = encode(event)
    client = get_redis()
    if client is not None:
        await _publisher(client)(room_channel(room_id), payload)
        return
    await _deliver_to_room(room_id, payload)


def publish(room_id: int, event: dict) -> None:
    """The same from synchronous code (services, tasks, commands)."""
    client = get_sync_redis()
    if client is None:
        async_to_sync(apublish)(room_id, event)  # hand it to the server's own loop
        return
    _publisher(client)(room_channel(room_id), encode(event))


def publish_many(events: list[tuple[int, dict]]) -> None:
    """`publish` several (room id, event), in one Redis round trip."""
    client = get_sync_redis()
    if client is None:
        for room_id, event in events:
            publish(room_id, event)
        return
    pipe = client.pipeline(transaction=False)
    publish_one = _publisher(client, pipe)
    for room_id, event in events:
        publish_one(room_channel(room_id), encode(event))
    pipe.execute()


def publish_on_commit(room_id: int, event: dict) -> None:
    """Publish once the surrounding transaction commits (at once outside a transaction)."""
    after_commit(lambda: publish(room_id, event), "publish")
