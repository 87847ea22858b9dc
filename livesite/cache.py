"""Django's Redis cache backend, keeping one client per connection pool.

`django.core.cache.backends.redis` builds a new `redis.Redis` for every cache
call. Building one parses its options and sets up response callbacks, which
cost more CPU than the round trip itself on hot paths (a profile of a gift
send: 7% of its CPU went to constructing clients for two cache calls). A
`redis.Redis` is only a thread-safe handle on its pool, so one per pool does.
Django gives each thread its own cache object, so nothing here is shared
between threads that Django did not already share.
"""

from django.core.cache.backends import redis as django_redis

from livesite.config import parse_sentinel_url


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def _get_connection_pool(self, write):
        # A redis+sentinel:// LOCATION: a pool that follows the master through failovers.
        index = self._get_connection_pool_index(write)
        url = self._servers[index]
        if index not in self._pools and parse_sentinel_url(url) is not None:
            from livesite.redis_client import sentinel_pool

            options = {k: v for k, v in self._pool_options.items() if k != "parser_class"}
            self._pools[index] = sentinel_pool(url, **options)
        return super()._get_connection_pool(write)

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
