"""Which ingest node holds a room's live HLS: the registry beside the live lock.

With several ingest machines each transcoder writes to its own machine's `HLS_ROOT`, so
only that machine can serve a room's video. An ingest started with `INGEST_NODE_ID` and
`INGEST_NODE_HLS_ADDRESS` writes, for every room it holds, next to the room's live lock
(streaming/ingest/live_lock.py):

    <prefix>:{hls-node}:room:<room id>  hash {node, address, slug, stream, msn, dsn}
    <prefix>:{hls-node}:slug:<slug>     the node's internal HLS address (host:port)

The web origin (streaming/origin.py with `HLS_NODE_ROUTING`) reads the second to send
a viewer's request on to that node (X-Accel-Redirect, deploy/nginx-hls-edge-cluster.conf).

The first carries what another node needs to continue the stream when this one dies:
the stream's id, the media sequence number of the last segment published (`msn`) and
how many discontinuities the stream had up to it (`dsn`, the discontinuity sequence
number of that segment). Both keys live `lock_ttl + reconnect_grace` after the last
renewal (the lock lives `lock_ttl`): a dead node's lock expires first, and for the
grace after that the entry says which stream a reconnecting broadcaster continues, on
whichever ingest the load balancer sends them to. The node that takes the lock over
rewrites the entry (`claim`); a stream that ends deletes both keys with its lock, only
if they are still this node's (`clear`), so a node finishing late never erases its
successor's entry.

Redis, not MariaDB: the entry changes every segment (every 2 s per room) and must
expire on its own when a node dies, as the lock does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger("livesite.ingest")

# KEYS: room hash, slug key. ARGV: node id. Deletes both only while they are this node's.
_CLEAR = """
if redis.call('hget', KEYS[1], 'node') == ARGV[1] then
  redis.call('del', KEYS[1])
  if redis.call('get', KEYS[2]) == ARGV[2] then redis.call('del', KEYS[2]) end
  return 1
end
return 0
"""
# KEYS: room hash, slug key. ARGV: node id, ttl ms. Extends both while they are this node's.
_RENEW = """
if redis.call('hget', KEYS[1], 'node') == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  redis.call('pexpire', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
# KEYS: room hash. ARGV: node id, msn, dsn. Recorded only while the entry is this node's,
# and only forwards: two writes in flight on different connections may land swapped.
_SEGMENT = """
if redis.call('hget', KEYS[1], 'node') == ARGV[1]
   and tonumber(ARGV[2]) > tonumber(redis.call('hget', KEYS[1], 'msn') or '-1') then
  redis.call('hset', KEYS[1], 'msn', ARGV[2], 'dsn', ARGV[3])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Handoff:
    """A stream another node (or this one before a restart) was publishing: continue it."""

    node: str
    stream_id: int
    last_sequence: int  # media sequence number of its last published segment; -1: none
    discontinuity_sequence: int  # discontinuities up to and including that segment


# One hash tag for the whole registry: its scripts and transactions touch a room's entry and
# its slug's together, and the origin knows only the slug, so they cannot share the room's
# tag. The registry holds one small entry per live room; on a Redis Cluster it lives in one
# slot.
def room_key(prefix: str, room_id: int) -> str:
    return f"{prefix}:{{hls-node}}:room:{room_id}"


def slug_key(prefix: str, slug: str) -> str:
    return f"{prefix}:{{hls-node}}:slug:{slug}"


class NodeRegistry:
    """One ingest node's entries (asyncio Redis client)."""

    def __init__(self, url: str, prefix: str, node_id: str, address: str, ttl_seconds: float):
        from realtime.redis_client import new_client

        self._redis = new_client(url, asyncio_client=True, decode_responses=True)
        self._prefix = prefix
        self.node_id = node_id
        self.address = address
        self._ttl_ms = int(ttl_seconds * 1000)
        self._clear = self._redis.register_script(_CLEAR)
        self._renew = self._redis.register_script(_RENEW)
        self._segment = self._redis.register_script(_SEGMENT)
        # Per room: (last sequence, discontinuities), so that every rendition's event for
        # one segment counts its discontinuity once.
        self._positions: dict[int, tuple[int, int]] = {}

    @classmethod
    def from_django(cls, ttl_seconds: float) -> NodeRegistry | None:
        """This ingest's registry, or None on a one-machine install (no INGEST_NODE_ID)."""
        from realtime.redis_client import data_url
        from streaming import conf

        if not conf.ingest_node_id():
            return None
        return cls(
            data_url(),  # where the origin's node_address() reads it: the cluster if any
            conf.redis_key_prefix(),
            conf.ingest_node_id(),
            conf.ingest_node_hls_address(),
            ttl_seconds,
        )

    def _keys(self, room_id: int, slug: str) -> list[str]:
        return [room_key(self._prefix, room_id), slug_key(self._prefix, slug)]

    async def handoff(self, room_id: int) -> Handoff | None:
        """The stream to continue, when the room's entry outlived its node's lock."""
        entry = await self._redis.hgetall(room_key(self._prefix, room_id))
        try:
            return Handoff(
                node=entry["node"],
                stream_id=int(entry["stream"]),
                last_sequence=int(entry.get("msn", -1)),
                discontinuity_sequence=int(entry.get("dsn", 0)),
            )
        except (KeyError, ValueError):
            return None

    async def claim(self, room_id: int, slug: str, stream_id: int, handoff: Handoff | None) -> None:
        """Call after taking the room's live lock: the room is served from this node now."""
        last, discontinuities = (
            (handoff.last_sequence, handoff.discontinuity_sequence) if handoff else (-1, 0)
        )
        self._positions[room_id] = (last, discontinuities)
        room, by_slug = self._keys(room_id, slug)
        fields = {
            "node": self.node_id,
            "address": self.address,
            "slug": slug,
            "stream": stream_id,
            "msn": last,
            "dsn": discontinuities,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(room)
            pipe.hset(room, mapping=fields)
            pipe.pexpire(room, self._ttl_ms)
            pipe.set(by_slug, self.address, px=self._ttl_ms)
            await pipe.execute()

    async def record_segment(self, room_id: int, sequence: int, discontinuity: bool) -> None:
        """A transcoder published segment `sequence` (the `segment` event)."""
        last, discontinuities = self._positions.get(room_id, (-1, 0))
        if sequence <= last:
            return  # another rendition's copy of a segment already counted
        if discontinuity:
            discontinuities += 1
        self._positions[room_id] = (sequence, discontinuities)
        await self._segment(
            keys=[room_key(self._prefix, room_id)],
            args=[self.node_id, sequence, discontinuities],
        )

    async def renew(self, room_id: int, slug: str) -> None:
        await self._renew(keys=self._keys(room_id, slug), args=[self.node_id, self._ttl_ms])

    async def clear(self, room_id: int, slug: str) -> None:
        self._positions.pop(room_id, None)
        await self._clear(keys=self._keys(room_id, slug), args=[self.node_id, self.address])

    async def close(self) -> None:
        await self._redis.aclose()


async def node_address(slug: str) -> str | None:
    """The internal HLS address of the node holding `slug` live, for the web origin."""
    from realtime.redis_client import get_redis
    from streaming import conf

    client = get_redis()
    value = await client.get(slug_key(conf.redis_key_prefix(), slug))
    return value.decode() if isinstance(value, bytes) else value
