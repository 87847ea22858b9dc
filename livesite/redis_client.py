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

`new_client` is the one place a client is built from a URL. A redis+sentinel://
URL (settings REDIS_SENTINELS and REDIS_SENTINEL_MASTER) gives a client on
redis-py's Sentinel `master_for`: every new connection asks the sentinels where
the master is, a connection that fails is dropped, and the retry policy below
lets a command ride out the seconds a failover takes. Each change of master a
process sees counts in `livesite_redis_master_changes_total`.
"""

import asyncio
import weakref

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel
import redis.sentinel as sentinel
from django.conf import settings
from prometheus_client import Counter
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from livesite.config import parse_sentinel_url

MASTER_CHANGES = Counter(
    "livesite_redis_master_changes_total",
    "Redis master address changes this process followed (Sentinel failovers)",
)
RECONNECTS = Counter(
    "livesite_redis_sentinel_lookups_total",
    "Times a Redis connection asked the sentinels for the master (new or reconnecting)",
)

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = (
    weakref.WeakKeyDictionary()
)
_sync_clients: dict[tuple[str, bool], redis.Redis] = {}
_last_master: dict[str, tuple[str, int]] = {}


def client_options(**overrides) -> dict:
    """Timeouts and health checks for a new Redis client (`overrides` for the rare exception)."""
    return {**settings.REDIS_CLIENT_OPTIONS, **overrides}


def _seen_master(name: str, address) -> None:
    RECONNECTS.inc()
    address = tuple(address)
    previous = _last_master.get(name)
    _last_master[name] = address
    if previous is not None and previous != address:
        MASTER_CHANGES.inc()


class _SentinelPool(sentinel.SentinelConnectionPool):
    def __init__(self, service_name, sentinel_manager, **kwargs):
        super().__init__(service_name, sentinel_manager, **kwargs)
        # Connections ask the pool's proxy (not the pool) for the master's address.
        ask = self.proxy.get_master_address

        def get_master_address():
            address = ask()
            _seen_master(service_name, address)
            return address

        self.proxy.get_master_address = get_master_address


class _AsyncSentinelPool(aiosentinel.SentinelConnectionPool):
    async def get_master_address(self):
        address = await super().get_master_address()
        _seen_master(self.service_name, address)
        return address


def failover_retry(retry_class):
    """Enough retries with backoff to span a Sentinel failover's few seconds."""
    return retry_class(ExponentialBackoff(cap=1.0, base=0.05), 8)


def sentinel_options() -> dict:
    """Options for the connections to the sentinels themselves."""
    return client_options(password=settings.REDIS_SENTINEL_PASSWORD or None)


def new_client(url: str, *, asyncio_client: bool = False, **options):
    """A new client for `url`: redis://, rediss://, unix:// or redis+sentinel://."""
    options = client_options(**options)
    target = parse_sentinel_url(url)
    if target is None:
        module = aioredis if asyncio_client else redis
        return module.Redis.from_url(url, **options)
    sentinels, master, db = target
    if asyncio_client:
        from redis.asyncio.retry import Retry

        manager = aiosentinel.Sentinel(sentinels, sentinel_kwargs=sentinel_options())
        pool_class = _AsyncSentinelPool
    else:
        from redis.retry import Retry

        manager = sentinel.Sentinel(sentinels, sentinel_kwargs=sentinel_options())
        pool_class = _SentinelPool
    options.setdefault("retry", failover_retry(Retry))
    options.setdefault("retry_on_error", [RedisConnectionError, RedisTimeoutError])
    return manager.master_for(
        master,
        connection_pool_class=pool_class,
        db=db,
        password=settings.REDIS_PASSWORD or None,
        **options,
    )


def sentinel_pool(url: str, **options) -> redis.ConnectionPool:
    """A blocking connection pool for a redis+sentinel:// URL (the cache backend)."""
    sentinels, master, db = parse_sentinel_url(url)
    manager = sentinel.Sentinel(sentinels, sentinel_kwargs=sentinel_options())
    return _SentinelPool(
        master,
        manager,
        db=db,
        password=settings.REDIS_PASSWORD or None,
        **client_options(**options),
    )


def get_redis() -> aioredis.Redis | None:
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = new_client(settings.REDIS_URL, asyncio_client=True)
        _clients[loop] = client
    return client


def get_sync_redis(url: str | None = None, *, decode_responses: bool = False) -> redis.Redis | None:
    """The blocking client for `url` (by default REDIS_URL), or None when it is empty."""
    url = settings.REDIS_URL if url is None else url
    if not url:
        return None
    client = _sync_clients.get((url, decode_responses))
    if client is None:
        client = _sync_clients[url, decode_responses] = new_client(
            url, decode_responses=decode_responses
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
