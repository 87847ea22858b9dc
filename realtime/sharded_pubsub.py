"""Sharded pub/sub on a Redis Cluster, with the face of redis-py's plain `PubSub`.

On a cluster (settings REDIS_CLUSTER_NODES) room events travel by SPUBLISH, and only
the master serving a channel's slot carries them, so a web process holds one
subscription connection per master that serves one of its rooms' channels
(SSUBSCRIBE), instead of every message crossing every node as plain PUBLISH does.

Written here rather than taken from redis-py's `ClusterPubSub` because that one reads
its nodes' connections in turn, waiting the whole read timeout on each quiet node, so
an event on the third node would wait for two timeouts; and it follows a moved slot
only when some other command of the same client refreshes the slot map, which a
process that only listens never sends. Here one task per node reads, all into one
queue; and anything that suggests the map changed (a lost connection, or a node that
says SUNSUBSCRIBE for a channel we still want: its slot moved away or the node lost
its master role) raises `SubscriptionLost` once, then the next read re-reads the slot
map from the cluster and subscribes every channel again on its current master. The
room feed (realtime.feed.RoomFeed) treats that like any lost connection and catches up
what it missed from the database.
"""

import asyncio
import contextlib
import logging
from collections import Counter

import redis.asyncio as aioredis
from redis.exceptions import RedisClusterException

from realtime import conf
from realtime.redis_client import client_options

log = logging.getLogger(__name__)


class SubscriptionLost(Exception):
    """The cluster moved or lost a node we listened to; the next read subscribes again."""


class ShardedSubscription:
    """SSUBSCRIBE to channels across a cluster; read them as one stream of messages."""

    def __init__(self, cluster) -> None:
        self._cluster = cluster  # the feed's own redis.asyncio.cluster.RedisCluster
        self._channels: set[str] = set()
        # Channels we left whose SUNSUBSCRIBE confirmation is still to be read: not a sign
        # that the slot moved, even if a viewer rejoined the room meanwhile.
        self._leaving: Counter[str] = Counter()
        self._nodes: dict[str, aioredis.client.PubSub] = {}  # node name -> its subscription
        self._clients: list[aioredis.Redis] = []
        self._readers: list[asyncio.Task] = []
        self._queue: asyncio.Queue = asyncio.Queue()
        self._broken = True  # nothing opened yet
        self._changing = asyncio.Lock()  # one (re)subscription at a time

    @property
    def subscribed(self) -> bool:
        return bool(self._channels)

    async def subscribe(self, channel: str) -> None:
        """Subscribed when this returns, unless the cluster is unreachable (then the next
        read subscribes again, and the feed catches up)."""
        self._channels.add(channel)
        async with self._changing:
            if self._broken:
                await self._guarded(self._reopen())
            else:
                await self._guarded(self._ssubscribe(channel))

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        async with self._changing:
            if not self._broken:
                await self._guarded(self._sunsubscribe(channel))

    async def get_message(self, timeout: float) -> dict | None:
        """The next message (type "message", as plain pub/sub says), or None after
        `timeout` seconds. Raises once when the subscription was lost."""
        if self._broken:
            async with self._changing:
                if self._broken:
                    await self._reopen()
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if isinstance(item, BaseException):
            self._broken = True
            raise SubscriptionLost(str(item)) from item
        kind = _text(item["type"])
        channel = _text(item["channel"])
        if kind == "smessage":
            return {**item, "type": "message"}
        if kind == "sunsubscribe" and self._leaving[channel]:
            self._leaving[channel] -= 1  # the answer to our own unsubscribe
            if not self._leaving[channel]:
                del self._leaving[channel]
            return None
        if kind == "sunsubscribe" and channel in self._channels:
            self._broken = True
            raise SubscriptionLost(f"the cluster unsubscribed {channel} (its slot moved)")
        return None

    async def aclose(self) -> None:
        await self._close_nodes()

    # --- internals -------------------------------------------------------------------
    async def _guarded(self, call) -> None:
        try:
            await call
        except (OSError, aioredis.RedisError, RedisClusterException):
            log.warning("sharded subscription failed; resubscribing at the next read")
            self._broken = True

    async def _sunsubscribe(self, channel: str) -> None:
        pubsub = self._nodes.get(self._cluster.get_node_from_key(channel).name)
        if pubsub is not None:
            self._leaving[channel] += 1
            await pubsub.sunsubscribe(channel)

    async def _ssubscribe(self, channel: str) -> None:
        node = self._cluster.get_node_from_key(channel)
        pubsub = self._nodes.get(node.name)
        if pubsub is None:
            client = aioredis.Redis(
                host=node.host,
                port=node.port,
                password=conf.redis_password(),
                **client_options(),
            )
            self._clients.append(client)
            pubsub = self._nodes[node.name] = client.pubsub()
            await pubsub.ssubscribe(channel)
            self._readers.append(asyncio.create_task(self._read(pubsub), name="shard-reader"))
            return
        await pubsub.ssubscribe(channel)

    async def _read(self, pubsub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._queue.put_nowait(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the node went away: the feed resubscribes everything
            self._queue.put_nowait(error)

    async def _reopen(self) -> None:
        await self._close_nodes()
        self._queue = asyncio.Queue()
        self._leaving.clear()  # new connections: no confirmation of the old ones will come
        await self._cluster.aclose()  # forget the slot map: the next call reads it afresh
        await self._cluster.initialize()
        for channel in sorted(self._channels):
            await self._ssubscribe(channel)
        self._broken = False

    async def _close_nodes(self) -> None:
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        for pubsub in self._nodes.values():
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._readers, self._nodes, self._clients = [], {}, []


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
