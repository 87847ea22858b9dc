"""Redis clients: one asyncio client per event loop, one blocking client per URL.

redis.asyncio connections belong to the loop that opened them; daphne runs one
loop per process, while tests open a new loop per test. Keying the client by
loop keeps both right. Sync code (views, services, Celery tasks) shares one
blocking client per URL instead: its connection pool is thread-safe. Both
return None when no Redis is configured (embedded defaults), and callers then
use their in-process fallback.

`client_options` is the one place Redis clients get their timeouts and health
checks (settings REDIS_SOCKET_TIMEOUT, REDIS_CONNECT_TIMEOUT,
REDIS_HEALTH_CHECK_INTERVAL); the cache, channel layer and Celery get the same
from settings.REDIS_CLIENT_OPTIONS.
"""

import asyncio
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = (
    weakref.WeakKeyDictionary()
)
_sync_clients: dict[tuple[str, bool], redis.Redis] = {}


def client_options(**overrides) -> dict:
    """Timeouts and health checks for a new Redis client (`overrides` for the rare exception)."""
    return {**settings.REDIS_CLIENT_OPTIONS, **overrides}


def get_redis() -> aioredis.Redis | None:
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS_URL, **client_options())
        _clients[loop] = client
    return client


def get_sync_redis(url: str | None = None, *, decode_responses: bool = False) -> redis.Redis | None:
    """The blocking client for `url` (by default REDIS_URL), or None when it is empty."""
    url = settings.REDIS_URL if url is None else url
    if not url:
        return None
    client = _sync_clients.get((url, decode_responses))
    if client is None:
        client = _sync_clients[url, decode_responses] = redis.Redis.from_url(
            url, decode_responses=decode_responses, **client_options()
        )
    return client


async def close_redis() -> None:
    """Close this loop's client (tests, whose loops end after each test)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def redis_key(*parts) -> str:
    """A Redis key under this deployment's prefix (tests give each test its own)."""
    return ":".join([settings.REDIS_KEY_PREFIX, *map(str, parts)])
