"""The Redis cache backend keeps one client per connection pool (realtime/cache.py)."""

from django.core.cache import caches

from realtime.cache import RedisCache


def test_values_round_trip_through_one_client(redis_url):
    cache = caches["default"]
    assert isinstance(cache, RedisCache)

    cache.set("greeting", {"text": "hi"}, 30)
    assert cache.get("greeting") == {"text": "hi"}
    assert cache.add("greeting", "other", 30) is False

    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client  # one server: reads use the same pool
