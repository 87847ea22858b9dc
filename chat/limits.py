"""Per-user message and like rates, and per-room slow mode, shared by every web process.

A token bucket (rate per second, burst) lets a viewer type a quick burst and
then holds them to the steady rate. With Redis the bucket is one Lua script
call per attempt, atomic across processes; with embedded defaults (one
process) it lives in memory. Slow mode is `SET NX EX`: one message per window.
"""

import time

from redis.commands.core import AsyncScript, Script

from realtime.redis_client import get_redis, get_sync_redis, is_cluster, redis_key

# One bucket: spend a token if there is one; 0 when allowed, else ms to wait.
_SPEND = """
local function spend(key, rate, burst, now)
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or burst
  local at = tonumber(bucket[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  local wait = 0
  if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
  redis.call('HSET', key, 'tokens', tokens, 'at', now)
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
  return wait
end
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
"""
# KEYS[1] bucket; ARGV: rate/s, burst, now (s). Returns 0 when allowed, else ms to wait.
BUCKET_SCRIPT = _SPEND + "return spend(KEYS[1], rate, burst, now)\n"
# KEYS: buckets, spent in turn; the same ARGV. Returns the wait of each.
BUCKETS_SCRIPT = (
    _SPEND
    + """local waits = {}
for i, key in ipairs(KEYS) do waits[i] = spend(key, rate, burst, now) end
return waits
"""
)
# Sent by their SHA-1 (EVALSHA), the text only to a Redis that has not seen them (redis-py's
# scripts: they run on whichever client a call names, the bytes need no client's encoder).
_bucket = AsyncScript(None, BUCKET_SCRIPT.encode())
_bucket_blocking = Script(None, BUCKET_SCRIPT.encode())
_buckets_blocking = Script(None, BUCKETS_SCRIPT.encode())

# KEYS[1] claim; ARGV: the value it must hold, the new value, seconds. 1 when taken over.
TAKE_OVER_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""

_local_buckets: dict[str, tuple[float, float]] = {}
_local_windows: dict[str, float] = {}
LOCAL_LIMIT = 100_000  # entries before the in-process tables are swept


def _sweep(now: float) -> None:
    if len(_local_buckets) > LOCAL_LIMIT:
        _local_buckets.clear()
    if len(_local_windows) > LOCAL_LIMIT:
        for key in [k for k, until in _local_windows.items() if until <= now]:
            del _local_windows[key]


async def take_token(key: str, rate: float, burst: int) -> float:
    """Spend one token; 0 when allowed, else the seconds until one is available."""
    client = get_redis()
    if client is not None:
        keys, args = [redis_key("bucket", key)], [rate, burst, time.time()]
        return int(await _bucket(keys, args, client=client)) / 1000
    return _take_local_token(key, rate, burst)


def take_token_blocking(key: str, rate: float, burst: int) -> float:
    """`take_token` for synchronous services (gift sends, on their threads): the same bucket."""
    client = get_sync_redis()
    if client is not None:
        keys, args = [redis_key("bucket", key)], [rate, burst, time.time()]
        return int(_bucket_blocking(keys, args, client=client)) / 1000
    return _take_local_token(key, rate, burst)


def take_tokens_blocking(keys: list[str], rate: float, burst: int) -> list[float]:
    """`take_token_blocking` for several buckets in one Redis round trip (a batch of gift
    sends, one per sender): the wait of each, 0 where a token was taken."""
    client = get_sync_redis()
    if client is None:
        return [_take_local_token(key, rate, burst) for key in keys]
    if is_cluster(client):  # each bucket is its own slot: a script may touch only one
        return [take_token_blocking(key, rate, burst) for key in keys]
    if not keys:
        return []
    # One script for all of them, not one each in a pipeline: the same Redis work, a
    # fraction of redis-py's Python per bucket (a gift batch's senders, every batch).
    names = [redis_key("bucket", key) for key in keys]
    waits = _buckets_blocking(names, [rate, burst, time.time()], client=client)
    return [int(wait_ms) / 1000 for wait_ms in waits]


def _take_local_token(key: str, rate: float, burst: int) -> float:
    key = redis_key("bucket", key)  # under the deployment's prefix, as in Redis
    now = time.monotonic()
    _sweep(now)
    tokens, at = _local_buckets.get(key, (float(burst), now))
    tokens = min(burst, tokens + (now - at) * rate)
    if tokens >= 1:
        _local_buckets[key] = (tokens - 1, now)
        return 0.0
    _local_buckets[key] = (tokens, now)
    return (1 - tokens) / rate


async def claim_window(key: str, seconds: int) -> float:
    """Claim a one-per-`seconds` window; 0 when claimed, else seconds left in the open one."""
    client = get_redis()
    window_key = redis_key("window", key)
    if client is not None:
        if await client.set(window_key, 1, nx=True, ex=seconds):
            return 0.0
        left = await client.pttl(window_key)
        return max(left, 0) / 1000
    now = time.monotonic()
    _sweep(now)
    until = _local_windows.get(window_key, 0.0)
    if until > now:
        return until - now
    _local_windows[window_key] = now + seconds
    return 0.0


_local_claims: dict[str, tuple[float, int]] = {}


async def claim_once(key: str, value: int, seconds: int) -> int | None:
    """Claim `key` for `value`; None when claimed now, else the value that holds it."""
    client = get_redis()
    if client is not None:
        redis_name = redis_key("claim", key)
        if await client.set(redis_name, value, nx=True, ex=seconds):
            return None
        held = await client.get(redis_name)
        return int(held) if held is not None else None
    now = time.monotonic()
    if len(_local_claims) > LOCAL_LIMIT:
        for stale in [k for k, (until, _) in _local_claims.items() if until <= now]:
            del _local_claims[stale]
    until, held = _local_claims.get(key, (0.0, 0))
    if until > now:
        return held
    _local_claims[key] = (now + seconds, value)
    return None


async def take_over_claim(key: str, held: int, value: int, seconds: int) -> bool:
    """Move `key`'s claim from `held` to `value`, only if `held` still holds it (atomic)."""
    client = get_redis()
    if client is not None:
        script = client.register_script(TAKE_OVER_SCRIPT)
        return bool(await script(keys=[redis_key("claim", key)], args=[held, value, seconds]))
    until, current = _local_claims.get(key, (0.0, 0))
    if until <= time.monotonic() or current != held:
        return False
    _local_claims[key] = (time.monotonic() + seconds, value)
    return True


async def release_claim(key: str) -> None:
    client = get_redis()
    if client is not None:
        await client.delete(redis_key("claim", key))
    else:
        _local_claims.pop(key, None)
