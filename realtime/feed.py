"""A web process's subscription to the rooms it has viewers in: one Redis pub/sub connection.

The room hubs (the room socket's app keeps them) subscribe a room's channel when its
first local viewer arrives and unsubscribe when its last leaves; the feed hands each
event, still encoded, to `deliver(room_id, frame)`, and events on the users' channel to
`deliver_to_users(frame)`. It knows no event type. On a Redis Cluster the subscription is
sharded pub/sub (realtime.sharded_pubsub).
"""

import asyncio
import logging

from prometheus_client import Counter

from realtime.publish import room_channel, room_of_channel, users_channel
from realtime.redis_client import data_url, is_cluster, new_client
from realtime.sharded_pubsub import ShardedSubscription

log = logging.getLogger(__name__)
FEED_DROPS = Counter(
    "livesite_chat_feed_drops_total", "Times a process's room feed lost its Redis connection"
)


class RoomFeed:
    """This process's subscription to the rooms it has viewers in: Redis pub/sub.

    One connection for the process (on a Redis Cluster, sharded pub/sub: one per master
    serving its rooms, realtime.sharded_pubsub). redis-py re-subscribes by itself when it
    reconnects; what was published while the connection was down is lost to
    pub/sub, so after a reconnect `caught_up` is called to fetch it (the hub
    reads the rooms' missed messages from the database).
    """

    def __init__(self, deliver, caught_up=None, deliver_to_users=None):
        self._deliver = deliver
        self._caught_up = caught_up
        self._deliver_to_users = deliver_to_users
        # Reads wait in get_message's own timeout; the socket timeout bounds every other
        # call, and health checks ping the idle connection so a dead one is noticed.
        self._client = new_client(data_url(), asyncio_client=True)
        if is_cluster(self._client):
            self._pubsub = ShardedSubscription(self._client)
        else:
            self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)

    async def subscribe(self, room_id: int) -> None:
        await self._pubsub.subscribe(room_channel(room_id))

    async def subscribe_users(self) -> None:
        await self._pubsub.subscribe(users_channel())

    async def unsubscribe(self, room_id: int) -> None:
        await self._pubsub.unsubscribe(room_channel(room_id))

    async def run(self) -> None:
        lost = False
        while True:
            if not self._pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                if asyncio.current_task().cancelling():
                    # redis-py can turn a cancellation into its own TimeoutError
                    raise asyncio.CancelledError from None
                if not lost:
                    log.exception("the room feed lost Redis; retrying")
                    FEED_DROPS.inc()
                lost = True
                await asyncio.sleep(1)
                continue
            if lost:  # connected and subscribed again
                lost = False
                log.warning("the room feed is back; catching up on missed messages")
                if self._caught_up is not None:
                    await self._caught_up()
            if message is None or message["type"] != "message":
                continue
            channel = message["channel"].decode()
            if channel == users_channel():
                if self._deliver_to_users is not None:
                    await self._deliver_to_users(message["data"].decode())
                continue
            await self._deliver(room_of_channel(channel), message["data"].decode())

    async def close(self) -> None:
        await self._pubsub.aclose()
        await self._client.aclose()
