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

A redis+cluster:// URL (settings REDIS_CLUSTER_NODES) gives redis-py's RedisCluster,
which follows MOVED and ASK redirects and re-reads the slot map after a resharding or a
failover; `data_url()` names it (or REDIS_URL without a cluster) for every data client.
The channel layer and Celery stay on REDIS_URL (settings). On a cluster, keys a script,
a transaction or a blocking pop touch together must share a slot: `room_tag` and
`user_tag` give them one hash tag, and `read_many` reads keys of different slots
(MGET itself would be refused with CROSSSLOT). Redirects and lost connections count in
`livesite_redis_cluster_errors_total`, through the clients' own error-metric hook (a
private method of redis-py 8's RedisCluster; without it the counter stays at 0).
"""

import asyncio
import weakref

import redis
import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
import redis.asyncio.sentinel as aiosentinel
import redis.cluster as cluster
import redis.sentinel as sentinel
from prometheus_client import Counter
from redis.backoff import ExponentialBackoff
from redis.exceptions import AskError, ClusterDownError, MovedError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from livesite.config import parse_cluster_url, parse_sentinel_url
from realtime import conf

MASTER_CHANGES = Counter(
    "livesite_redis_master_changes_total",
    "Redis master address changes this process followed (Sentinel failovers)",
)
RECONNECTS = Counter(
    "livesite_redis_sentinel_lookups_total",
    "Times a Redis connection asked the sentinels for the master (new or reconnecting)",
)

CLUSTER_ERRORS = Counter(
    "livesite_redis_cluster_errors_total",
    "Redis Cluster redirects and failures the clients rode out (moved, ask: a resharding or "
    "failover; connection: a node lost; cluster_down, try_again: slots briefly unserved)",
    ["kind"],
)
for _kind in ("moved", "ask", "connection", "cluster_down", "try_again"):
    CLUSTER_ERRORS.labels(_kind)

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = (
    weakref.WeakKeyDictionary()
)
_sync_clients: dict[tuple[str, bool], redis.Redis] = {}
_last_master: dict[str, tuple[str, int]] = {}


def client_options(**overrides) -> dict:
    """Timeouts and health checks for a new Redis client (`overrides` for the rare exception)."""
    return {**conf.redis_client_options(), **overrides}


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


def _count_cluster_error(error: Exception) -> None:
    if isinstance(error, MovedError):
        kind = "moved"
    elif isinstance(error, AskError):
        kind = "ask"
    elif isinstance(error, ClusterDownError):
        kind = "cluster_down"
    elif isinstance(error, TryAgainError):
        kind = "try_again"
    elif isinstance(error, (RedisConnectionError, RedisTimeoutError, OSError)):
        kind = "connection"
    else:
        return
    CLUSTER_ERRORS.labels(kind).inc()


class _Cluster(cluster.RedisCluster):
    def _record_error_metric(self, error, *args, **kwargs):
        _count_cluster_error(error)
        return super()._record_error_metric(error, *args, **kwargs)


class _AsyncCluster(aiocluster.RedisCluster):
    async def _record_error_metric(self, error, *args, **kwargs):
        _count_cluster_error(error)
        return await super()._record_error_metric(error, *args, **kwargs)


_cluster_classes: dict[type, bool] = {}


def is_cluster(client) -> bool:
    # Asked on every gift send, and redis-py's client classes have typing's Protocol
    # metaclass, whose isinstance() runs about ten Python calls: remembered by class.
    kind = client.__class__
    answer = _cluster_classes.get(kind)
    if answer is None:
        answer = _cluster_classes[kind] = issubclass(
            kind, (cluster.RedisCluster, aiocluster.RedisCluster)
        )
    return answer


def _new_cluster_client(nodes, asyncio_client: bool, options: dict):
    if asyncio_client:
        from redis.asyncio.retry import Retry

        client_class, node_class = _AsyncCluster, aiocluster.ClusterNode
    else:
        from redis.retry import Retry

        client_class, node_class = _Cluster, cluster.ClusterNode
    # The same patience as through Sentinel: a failover takes a node timeout and a vote.
    options.setdefault("retry", failover_retry(Retry))
    options.setdefault("password", conf.redis_password())
    return client_class(startup_nodes=[node_class(host, port) for host, port in nodes], **options)


def data_url() -> str:
    """Where the site's data lives: the cluster when there is one, else REDIS_URL."""
    return conf.redis_cluster_url() or conf.redis_url()


def room_tag(room_id) -> str:
    """A hash tag putting every key of one room in one cluster slot."""
    return f"{{room:{room_id}}}"


def user_tag(user_id) -> str:
    return f"{{user:{user_id}}}"


def read_many(client, keys: list):
    """GET of several keys: one MGET, or on a cluster one per slot, pipelined by node."""
    return client.mget_nonatomic(keys) if is_cluster(client) else client.mget(keys)


def sentinel_options() -> dict:
    """Options for the connections to the sentinels themselves."""
    return client_options(password=conf.redis_sentinel_password())


def new_client(url: str, *, asyncio_client: bool = False, **options):
    """A new client for `url`: redis://, rediss://, unix://, redis+sentinel:// or
    redis+cluster://."""
    options = client_options(**options)
    nodes = parse_cluster_url(url)
    if nodes is not None:
        return _new_cluster_client(nodes, asyncio_client, options)
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
        password=conf.redis_password(),
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
        password=conf.redis_password(),
        **client_options(**options),
    )


def get_redis() -> aioredis.Redis | None:
    """This loop's client for the site's data (`data_url`), or None without Redis."""
    url = data_url()
    if not url:
        return None
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = new_client(url, asyncio_client=True)
    return client


def get_sync_redis(url: str | None = None, *, decode_responses: bool = False) -> redis.Redis | None:
    """The blocking client for `url` (by default `data_url()`), or None when it is empty."""
    url = data_url() if url is None else url
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
    return ":".join([conf.redis_key_prefix(), *map(str, parts)])
