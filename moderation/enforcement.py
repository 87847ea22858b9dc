"""Who is banned or timed out where, for the per-message check: one round trip a message.

The database (moderation.models.Restriction) is the truth. This module keeps
the active restrictions where the hot path reads them cheaply and where every
web process sees a change the moment it commits:

- with Redis: one key per restricted (room, user) and one per site-banned user,
  each expiring with its timeout; and a *marker* per room and one for the site,
  meaning "this room's active restrictions are loaded here", whose value is the
  room's rules token (moderation.room_rules). A chat message costs one MGET of
  four keys: the room's marker, the site's marker, the user's restriction in
  the room and the user's site ban.
- with the embedded defaults (one process): the same keys in a dict.

A missing marker (first use, Redis restarted or evicted, or the marker's TTL
ran out) makes the caller reload that room's active restrictions from the
database and set the marker, so losing Redis data never lets a ban lapse for
longer than it takes to notice. Markers expire (MODERATION_STATE_TTL_SECONDS,
T) and nothing extends them, so any drift between the database and the cache
heals by itself; a ban's key lives 2T, so it outlives every marker that
vouches for it, and the reload after the marker expires writes it again.
"""

import json
import threading
import time
from dataclasses import dataclass

import redis

from moderation import conf
from realtime.redis_client import get_redis, get_sync_redis, read_many, redis_key

SITE = "site"


@dataclass(frozen=True, slots=True)
class ActiveRestriction:
    kind: str  # "ban" or "timeout" (moderation.models.Restriction.Kind)
    until: float | None  # epoch seconds; None for bans
    reason: str
    site_wide: bool

    def seconds_left(self) -> float | None:
        return None if self.until is None else max(0.0, self.until - time.time())


@dataclass(frozen=True, slots=True)
class Lookup:
    """One answer for one (room, user): the rules tokens and the strongest restriction."""

    room_token: str | None  # None: the room's restrictions are not loaded (reload them)
    site_token: str | None
    restriction: ActiveRestriction | None


def marker_key(room_id: int | None) -> str:
    return redis_key("mod", "loaded", SITE if room_id is None else room_id)


def restriction_key(room_id: int | None, user_id: int) -> str:
    return redis_key("mod", "restricted", SITE if room_id is None else room_id, user_id)


def _keys(room_id: int, user_id: int) -> list[str]:
    return [
        marker_key(room_id),
        marker_key(None),
        restriction_key(room_id, user_id),
        restriction_key(None, user_id),
    ]


def encode(kind: str, until: float | None, reason: str) -> str:
    return json.dumps({"kind": kind, "until": until, "reason": reason[:200]})


def _decode(raw, site_wide: bool) -> ActiveRestriction | None:
    if raw is None:
        return None
    data = json.loads(raw)
    if data["until"] is not None and data["until"] <= time.time():
        return None  # expired a moment ago; the key's TTL will remove it
    return ActiveRestriction(data["kind"], data["until"], data["reason"], site_wide)


def _text(raw) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw


def _lookup(values: list) -> Lookup:
    room_marker, site_marker, in_room, on_site = values
    # A site ban outranks anything in the room; a room ban outranks a timeout.
    restriction = _decode(on_site, True) or _decode(in_room, False)
    return Lookup(_text(room_marker), _text(site_marker), restriction)


# --- backends ----------------------------------------------------------------------------
class _LocalStore:
    """The embedded install's store: one process, so a dict with expiry times will do."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float | None]] = {}

    def get_many(self, keys: list[str]) -> list[str | None]:
        now = time.monotonic()
        found = []
        for key in keys:
            entry = self._values.get(key)
            found.append(entry[0] if entry and (entry[1] is None or entry[1] > now) else None)
        return found

    def set(self, key: str, value: str, ttl: float | None, only_if: str | None = None) -> None:
        """Like Redis SET; `only_if` "missing" is NX, "exists" is XX with KEEPTTL."""
        with self._lock:
            exists = self.get_many([key])[0] is not None
            if (only_if == "exists" and not exists) or (only_if == "missing" and exists):
                return
            expires = None if ttl is None else time.monotonic() + ttl
            if only_if == "exists":
                expires = self._values[key][1]
            self._values[key] = (value, expires)
            if len(self._values) > 200_000:  # bounded like chat.limits' tables
                self._values.clear()

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)


_local = _LocalStore()


def _sync_redis() -> redis.Redis | None:
    return get_sync_redis()


def _ttl_arguments(ttl: float | None) -> dict:
    return {} if ttl is None else {"px": max(1, int(ttl * 1000))}


# --- reading: the hot path -------------------------------------------------------------
async def alookup(room_id: int, user_id: int) -> Lookup:
    """The rules tokens and the user's restriction in the room: one Redis round trip."""
    client = get_redis()
    keys = _keys(room_id, user_id)
    values = await read_many(client, keys) if client is not None else _local.get_many(keys)
    return _lookup(values)


def lookup(room_id: int, user_id: int) -> Lookup:
    """`alookup` for synchronous callers (permissions, gifts, the REST API)."""
    return lookup_many([(room_id, user_id)])[0]


def lookup_many(pairs: list[tuple[int, int]]) -> list[Lookup]:
    """`lookup` for several (room id, user id), in one round trip (a batch of gift sends)."""
    client = _sync_redis()
    keys = [key for room_id, user_id in pairs for key in _keys(room_id, user_id)]
    values = read_many(client, keys) if client is not None else _local.get_many(keys)
    return [_lookup(values[index : index + 4]) for index in range(0, len(values), 4)]


# --- writing: services, after their transaction commits -----------------------------------
def _fail_closed(room_id: int | None) -> None:
    """A write that should have reached the cache did not: drop the room's marker, so the
    next check reloads the room from the database (the truth) instead of trusting a cache
    that misses the change. Raises if even that fails (the marker's TTL then heals it)."""
    client = _sync_redis()
    if client is not None:
        client.delete(marker_key(room_id))
    else:
        _local.delete(marker_key(room_id))


def put(room_id: int | None, user_id: int, value: str, ttl: float) -> None:
    client = _sync_redis()
    key = restriction_key(room_id, user_id)
    try:
        if client is not None:
            client.set(key, value, **_ttl_arguments(ttl))
        else:
            _local.set(key, value, ttl)
    except Exception:
        _fail_closed(room_id)
        raise


def remove(room_id: int | None, user_id: int) -> None:
    client = _sync_redis()
    key = restriction_key(room_id, user_id)
    try:
        if client is not None:
            client.delete(key)
        else:
            _local.delete(key)
    except Exception:
        _fail_closed(room_id)
        raise


def mark_loaded(room_id: int | None, entries: list[tuple[int, str, float]], token: str):
    """Put a room's active restrictions and then its marker; returns the marker now set.

    `entries` are (user id, encoded restriction, ttl). The marker is set only if
    missing: when two processes reload at once, both write the same keys and
    the first marker stays.
    """
    client = _sync_redis()
    marker, marker_ttl = marker_key(room_id), conf.state_ttl_seconds()
    if client is None:
        for user_id, value, ttl in entries:
            _local.set(restriction_key(room_id, user_id), value, ttl)
        _local.set(marker, token, marker_ttl, only_if="missing")
        return _local.get_many([marker])[0]
    with client.pipeline(transaction=False) as pipe:
        for user_id, value, ttl in entries:
            pipe.set(restriction_key(room_id, user_id), value, **_ttl_arguments(ttl))
        pipe.set(marker, token, ex=marker_ttl, nx=True)
        pipe.get(marker)
        return _text(pipe.execute()[-1])


def change_token(room_id: int | None, token: str) -> None:
    """New rules: change the marker's token, but only where the room is loaded (the marker
    is a promise that its restrictions are in the cache; a token alone cannot keep it),
    and without extending the marker's life."""
    client = _sync_redis()
    marker = marker_key(room_id)
    try:
        if client is not None:
            client.set(marker, token, xx=True, keepttl=True)
        else:
            _local.set(marker, token, None, only_if="exists")
    except Exception:
        _fail_closed(room_id)
        raise
