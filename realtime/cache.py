"""Django's Redis cache backend, keeping one client per connection pool.

`django.core.cache.backends.redis` builds a new `redis.Redis` for every cache
call. Building one parses its options and sets up response callbacks, which
cost more CPU than the round trip itself on hot paths (a profile of a gift
send: 7% of its CPU went to constructing clients for two cache calls). A
`redis.Redis` is only a thread-safe handle on its pool, so one per pool does.
Django gives each thread its own cache object, so nothing here is shared
between threads that Django did not already share.

A redis+cluster:// LOCATION (settings REDIS_CLUSTER_NODES) gets one RedisCluster for
the process instead (it is thread-safe and keeps a pool per node), and the calls
Django makes with several keys at once go key by key, grouped by node: MGET and
MSET are refused across slots.
"""

from django.core.cache.backends import redis as django_redis

from livesite.config import parse_cluster_url, parse_sentinel_url


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        cluster = [url for url in self._servers if parse_cluster_url(url) is not None]
        self._cluster_url = cluster[0] if cluster else None

    def _cluster(self):
        from realtime.redis_client import get_sync_redis

        return get_sync_redis(self._cluster_url)

    def get_many(self, keys):
        if self._cluster_url is None:
            return super().get_many(keys)
        keys = list(keys)
        values = self._cluster().mget_nonatomic(keys)
        found = zip(keys, values, strict=True)
        return {key: self._serializer.loads(value) for key, value in found if value is not None}

    def set_many(self, data, timeout):
        if self._cluster_url is None:
            return super().set_many(data, timeout)
        pipeline = self._cluster().pipeline(transaction=False)
        for key, value in data.items():
            if timeout == 0:  # Django's meaning: expired at once (Redis refuses EX 0)
                pipeline.delete(key)
            else:
                pipeline.set(key, self._serializer.dumps(value), ex=timeout)
        pipeline.execute()

    def _get_connection_pool(self, write):
        # A redis+sentinel:// LOCATION: a pool that follows the master through failovers.
        index = self._get_connection_pool_index(write)
        url = self._servers[index]
        if index not in self._pools and parse_sentinel_url(url) is not None:
            from realtime.redis_client import sentinel_pool

            options = {k: v for k, v in self._pool_options.items() if k != "parser_class"}
            self._pools[index] = sentinel_pool(url, **options)
        return super()._get_connection_pool(write)

    def get_client(self, key=None, *, write=False):
        if self._cluster_url is not None:
            return self._cluster()
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
