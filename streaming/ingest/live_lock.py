"""One live publisher per room, even across ingest processes on several machines.

`RedisLiveLock` is a Redis key per room (`SET NX PX`) holding a random token, renewed
while the room is live and deleted at the end; both are check-the-token scripts, so a
process whose lock expired (a long GC pause, a network split) can neither renew nor
delete the lock someone else took since. With no Redis (the one-machine install)
`LocalLiveLock` does the same in memory for the one ingest process there is.
"""

from __future__ import annotations

import time
import weakref
from typing import Protocol

_RENEW = """
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not current then return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0 end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class LiveLock(Protocol):
    async def acquire(self, room_id: int, token: str) -> bool: ...

    async def renew(self, room_id: int, token: str) -> bool:
        """Extend the lock; False means it is lost (another holder has the room)."""

    async def release(self, room_id: int, token: str) -> None: ...


class RedisLiveLock:
    def __init__(self, url: str, prefix: str, ttl_seconds: float) -> None:
        from livesite.redis_client import new_client

        # Timeouts well inside the lock's lifetime: a hung Redis fails the renewal, it
        # does not stall the ingest's loop past the moment the lock expires.
        self._redis = new_client(url, asyncio_client=True)
        self._prefix = prefix
        self._ttl_ms = int(ttl_seconds * 1000)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)

    def _key(self, room_id: int) -> str:
        return _redis_key(self._prefix, room_id)

    async def acquire(self, room_id: int, token: str) -> bool:
        return bool(await self._redis.set(self._key(room_id), token, nx=True, px=self._ttl_ms))

    async def renew(self, room_id: int, token: str) -> bool:
        # If Redis lost the key (restart, eviction) and nobody took it, take it back.
        return bool(await self._renew(keys=[self._key(room_id)], args=[token, self._ttl_ms]))

    async def release(self, room_id: int, token: str) -> None:
        await self._release(keys=[self._key(room_id)], args=[token])

    async def close(self) -> None:
        await self._redis.aclose()


def _redis_key(prefix: str, room_id: int) -> str:
    return f"{prefix}:live-lock:room:{room_id}"


_local_locks: weakref.WeakSet[LocalLiveLock] = weakref.WeakSet()


def held_live_locks(room_ids) -> set[int]:
    """Which of these rooms some ingest holds the live lock of (rooms.tasks). With Redis,
    any ingest anywhere; without, the ingest of this process (the one-process install).
    A process without Redis and without an ingest cannot tell: all of them, so that
    nothing is ended on a guess."""
    from django.conf import settings

    from livesite.redis_client import get_sync_redis

    room_ids = list(room_ids)
    client = get_sync_redis()
    if client is None:
        locks = list(_local_locks)
        if not locks:
            return set(room_ids)
        return {room_id for room_id in room_ids if any(lock._holder(room_id) for lock in locks)}
    with client.pipeline(transaction=False) as pipe:
        for room_id in room_ids:
            pipe.exists(_redis_key(settings.REDIS_KEY_PREFIX, room_id))
        found = pipe.execute()
    return {room_id for room_id, exists in zip(room_ids, found, strict=True) if exists}


def live_locks_kept_for() -> float:
    """Seconds the lock store has been keeping locks: Redis's uptime, so that a sweep
    right after a restart (which lost every lock) ends nothing on a guess
    (rooms.services.end_abandoned_streams). In-process locks live as long as the process
    that asks, so they have always been kept."""
    from livesite.redis_client import get_sync_redis

    client = get_sync_redis()
    if client is None:
        return float("inf")
    return float(client.info("server")["uptime_in_seconds"])


class LocalLiveLock:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._holders: dict[int, tuple[str, float]] = {}
        _local_locks.add(self)

    def _holder(self, room_id: int) -> str | None:
        token, expires = self._holders.get(room_id, (None, 0.0))
        return token if expires > time.monotonic() else None

    async def acquire(self, room_id: int, token: str) -> bool:
        if self._holder(room_id) not in (None, token):
            return False
        self._holders[room_id] = (token, time.monotonic() + self._ttl)
        return True

    async def renew(self, room_id: int, token: str) -> bool:
        return await self.acquire(room_id, token)

    async def release(self, room_id: int, token: str) -> None:
        if self._holder(room_id) == token:
            del self._holders[room_id]

    async def close(self) -> None:
        pass
