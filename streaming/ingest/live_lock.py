"""One live publisher per room, even across ingest processes on several machines.

`RedisLiveLock` is a Redis key per room (`SET NX PX`) holding a random token, renewed
while the room is live and deleted at the end; both are check-the-token scripts, so a
process whose lock expired (a long GC pause, a network split) can neither renew nor
delete the lock someone else took since. With no Redis (the one-machine install)
`LocalLiveLock` does the same in memory for the one ingest process there is.

Fencing. Each acquisition also takes the room's next fencing token (an INCR per room),
stored with the lock as `<fence>:<token>`; acquire and renew return it (0: refused or
lost). Through Sentinel, a lock the master acknowledged may die with that master before
it reached the replica, and the promoted replica then lets a second ingest take the room
while the first still streams. The renewal that checks its token settles it: at its
next renewal (a third of the lock's lifetime) the first ingest finds the other's token,
gets 0, and drops its publisher (streaming.ingest.watch); the newer holder carries the
larger fence, which the ingest logs. To make that window rare, an acquisition through
Sentinel or on a Redis Cluster waits briefly (WAIT) for a replica to confirm the lock.
On a cluster the lock and its fence share the room's hash tag (the scripts touch both). See
docs/reliability.md, "Redis Sentinel failover".
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import Protocol

logger = logging.getLogger("livesite.ingest")

# KEYS: the lock, the room's fence counter. ARGV: token, lifetime in ms. The value held
# is "<fence>:<token>"; each script answers the holder's fence, or 0.
_ACQUIRE = """
local current = redis.call('get', KEYS[1])
if current then
  local fence, token = string.match(current, '^(%d+):(.*)$')
  if token == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return tonumber(fence) end
  return 0
end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], fence .. ':' .. ARGV[1], 'PX', ARGV[2])
return fence
"""
# The same: renewing extends our own lock; a lock that vanished (a Redis restart, or a
# failover that lost it) and that nobody took since is taken back, with a new fence.
_RENEW = _ACQUIRE
_RELEASE = """
local current = redis.call('get', KEYS[1])
if current and string.match(current, '^%d+:(.*)$') == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
# How long an acquisition through Sentinel waits for a replica to confirm the lock.
REPLICA_WAIT_MS = 100


class LiveLock(Protocol):
    async def acquire(self, room_id: int, token: str) -> int:
        """The lock's fencing token (1 or more), or 0 when another holder has the room."""

    async def renew(self, room_id: int, token: str) -> int:
        """Extend the lock and answer its fence; 0 means it is lost (another holder has it)."""

    async def release(self, room_id: int, token: str) -> None: ...


class RedisLiveLock:
    def __init__(self, url: str, prefix: str, ttl_seconds: float) -> None:
        from livesite.config import parse_sentinel_url
        from realtime.redis_client import is_cluster, new_client

        # Timeouts well inside the lock's lifetime: a hung Redis fails the renewal, it
        # does not stall the ingest's loop past the moment the lock expires.
        self._redis = new_client(url, asyncio_client=True)
        self._cluster = is_cluster(self._redis)
        self._replicated = self._cluster or parse_sentinel_url(url) is not None
        self._prefix = prefix
        self._ttl_ms = int(ttl_seconds * 1000)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)

    def _keys(self, room_id: int) -> list[str]:
        return [_redis_key(self._prefix, room_id), _fence_key(self._prefix, room_id)]

    async def acquire(self, room_id: int, token: str) -> int:
        fence = int(await self._acquire(keys=self._keys(room_id), args=[token, self._ttl_ms]))
        if fence and self._replicated:
            replicas = await self._wait_for_replica(room_id)
            if not replicas:
                logger.warning(
                    "room %s: live lock (fence %s) not yet on a replica; a failover now "
                    "could let another ingest take the room",
                    room_id,
                    fence,
                )
        return fence

    async def _wait_for_replica(self, room_id: int) -> int:
        if not self._cluster:
            return await self._redis.execute_command("WAIT", 1, REPLICA_WAIT_MS)
        # On a cluster, WAIT on the master that holds the room's slot (WAIT has no key).
        node = self._redis.get_node_from_key(self._keys(room_id)[0])
        return await self._redis.execute_command("WAIT", 1, REPLICA_WAIT_MS, target_nodes=node)

    async def renew(self, room_id: int, token: str) -> int:
        # If Redis lost the key (restart, failover) and nobody took it, take it back.
        return int(await self._renew(keys=self._keys(room_id), args=[token, self._ttl_ms]))

    async def release(self, room_id: int, token: str) -> None:
        await self._release(keys=self._keys(room_id), args=[token])

    async def close(self) -> None:
        await self._redis.aclose()


def configured_live_lock(ttl_seconds: float) -> LiveLock:
    """The lock the settings call for: in Redis when one is configured (the data Redis,
    which a Redis Cluster deployment names apart), else in this process."""
    from realtime.redis_client import data_url
    from streaming import conf

    if data_url():
        return RedisLiveLock(data_url(), conf.redis_key_prefix(), ttl_seconds)
    return LocalLiveLock(ttl_seconds)


def _redis_key(prefix: str, room_id: int) -> str:
    # The lock and its fence share the room's hash tag: the scripts touch both, and on a
    # Redis Cluster a script's keys must live in one slot.
    from realtime.redis_client import room_tag

    return f"{prefix}:live-lock:{room_tag(room_id)}"


def _fence_key(prefix: str, room_id: int) -> str:
    from realtime.redis_client import room_tag

    return f"{prefix}:live-lock:fence:{room_tag(room_id)}"


def live_lock_key(room_id: int) -> str:
    """The Redis key of a room's live lock (tests and operators read it)."""
    from streaming import conf

    return _redis_key(conf.redis_key_prefix(), room_id)


_local_locks: weakref.WeakSet[LocalLiveLock] = weakref.WeakSet()


def held_live_locks(room_ids) -> set[int]:
    """Which of these rooms some ingest holds the live lock of (streaming.tasks). With Redis,
    any ingest anywhere; without, the ingest of this process (the one-process install).
    With several ingest machines, a room whose node died counts as held while its entry
    in the node registry waits out the reconnect grace (streaming/hls_nodes.py): another
    ingest may yet continue its stream.
    A process without Redis and without an ingest cannot tell: all of them, so that
    nothing is ended on a guess."""
    from realtime.redis_client import get_sync_redis
    from streaming import conf
    from streaming.hls_nodes import room_key

    room_ids = list(room_ids)
    client = get_sync_redis()
    if client is None:
        locks = list(_local_locks)
        if not locks:
            return set(room_ids)
        return {room_id for room_id in room_ids if any(lock._holder(room_id) for lock in locks)}
    prefix = conf.redis_key_prefix()
    with client.pipeline(transaction=False) as pipe:
        for room_id in room_ids:  # one key a command: on a cluster the two live in other slots
            pipe.exists(_redis_key(prefix, room_id))
            pipe.exists(room_key(prefix, room_id))
        found = pipe.execute()
    pairs = zip(found[::2], found[1::2], strict=True)
    return {room_id for room_id, (lock, node) in zip(room_ids, pairs, strict=True) if lock or node}


def live_locks_kept_for() -> float:
    """Seconds the lock store has been keeping locks: Redis's uptime, so that a sweep
    right after a restart (which lost every lock) ends nothing on a guess
    (rooms.services.end_abandoned_streams). In-process locks live as long as the process
    that asks, so they have always been kept.

    Through Sentinel, a promoted replica has been up long before it became the master,
    and may lack locks its old master took: its uptime says nothing, so this answers 0
    and a missing lock must be missing at two sweeps a lifetime apart before its stream
    ends (the live ingest takes it back within a third of a lifetime)."""
    from realtime.redis_client import get_sync_redis, is_cluster
    from streaming import conf

    client = get_sync_redis()
    if client is None:
        return float("inf")
    if conf.redis_sentinels() or is_cluster(client):  # a cluster promotes replicas too
        return 0.0
    return float(client.info("server")["uptime_in_seconds"])


class LocalLiveLock:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._holders: dict[int, tuple[str, int, float]] = {}
        self._fences: dict[int, int] = {}
        _local_locks.add(self)

    def _holder(self, room_id: int) -> str | None:
        token, _fence, expires = self._holders.get(room_id, (None, 0, 0.0))
        return token if expires > time.monotonic() else None

    async def acquire(self, room_id: int, token: str) -> int:
        holder = self._holder(room_id)
        if holder not in (None, token):
            return 0
        if holder is None:
            self._fences[room_id] = self._fences.get(room_id, 0) + 1
        fence = self._fences[room_id]
        self._holders[room_id] = (token, fence, time.monotonic() + self._ttl)
        return fence

    async def renew(self, room_id: int, token: str) -> int:
        return await self.acquire(room_id, token)

    async def release(self, room_id: int, token: str) -> None:
        if self._holder(room_id) == token:
            del self._holders[room_id]

    async def close(self) -> None:
        pass
