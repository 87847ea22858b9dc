"""Room metadata that every page view reads, cached and invalidated when it changes.

With Redis configured the cache is Redis (settings.CACHES), shared by every web
process; otherwise it is the process's memory. Every service in rooms.services that
changes a room or its live stream calls `invalidate` once its transaction commits, so
a page never shows a status older than the change; `ROOM_CACHE_SECONDS` is only the
safety net for a change made behind the services' back (the admin, a shell).

What is cached is the `Room` with its owner and current stream loaded; counters that
move every second (likes, viewers) are not read from here.

The directory (`directory`) is cached the same way, as one entry that is the same for
every viewer: rooms the viewer follows are moved first by the view, with one query
of its own, and viewer counts come from realtime.presence.
"""

from dataclasses import dataclass

from django.core.cache import cache

from infra.after_commit import after_commit
from rooms import conf
from rooms.models import Room, Stream

DIRECTORY_KEY = "rooms:directory"
LIVE_KEY = "rooms:live"
DIRECTORY_LIVE_ROOMS = 60
DIRECTORY_OTHER_ROOMS = 12
DIRECTORY_REPLAYS = 12


def _room_key(slug: str) -> str:
    return f"rooms:room:{slug}"


def room(slug: str) -> Room | None:
    """The room at `slug` with `owner` and `current_stream` loaded, or None."""
    key = _room_key(slug)
    found = cache.get(key)
    if found is None:
        found = Room.objects.select_related("owner", "current_stream").filter(slug=slug).first()
        if found is None:
            return None
        cache.set(key, found, conf.room_cache_seconds())
    return found


@dataclass
class Directory:
    live_rooms: list[Room]  # newest first, owner loaded
    other_rooms: list[Room]  # offline or ended, most recently changed first
    replays: list[Stream]  # ready replays, latest first, room and its owner loaded


def directory() -> Directory:
    """What the directory page lists: three queries at most once per ROOM_CACHE_SECONDS."""
    found = cache.get(DIRECTORY_KEY)
    if found is None:
        rooms = Room.objects.select_related("owner").order_by("-updated_at")
        replays = Stream.objects.select_related("room__owner").filter(replay_ready=True)
        found = Directory(
            live_rooms=list(rooms.filter(status=Room.Status.LIVE)[:DIRECTORY_LIVE_ROOMS]),
            other_rooms=list(rooms.exclude(status=Room.Status.LIVE)[:DIRECTORY_OTHER_ROOMS]),
            replays=list(replays.order_by("-ended_at")[:DIRECTORY_REPLAYS]),
        )
        cache.set(DIRECTORY_KEY, found, conf.room_cache_seconds())
    return found


def live_rooms() -> list[Room]:
    """Every live room, owner and stream loaded, newest stream first: one query at most
    once per ROOM_CACHE_SECONDS, forgotten with the directory. Category pages and the
    search results' live-first order read it (the discovery app)."""
    found = cache.get(LIVE_KEY)
    if found is None:
        rooms = Room.objects.select_related("owner", "current_stream")
        found = list(rooms.filter(status=Room.Status.LIVE).order_by("-current_stream__started_at"))
        cache.set(LIVE_KEY, found, conf.room_cache_seconds())
    return found


def invalidate(room: Room) -> None:
    """Forget the room, the directory and the live rooms, after the current transaction
    commits."""
    keys = [_room_key(room.slug), DIRECTORY_KEY, LIVE_KEY]
    after_commit(lambda: cache.delete_many(keys), "room_cache")


def _health_key(room_id: int) -> str:
    return f"rooms:health:{room_id}"


HEALTH_SECONDS = 30  # a stream whose ingest stops reporting loses its health panel


async def store_health(room_id: int, event: dict | None) -> None:
    """The ingest's latest `stream.health` event, for the stream manager's first paint."""
    if event is None:
        await cache.adelete(_health_key(room_id))
    else:
        await cache.aset(_health_key(room_id), event, HEALTH_SECONDS)


def health(room_id: int) -> dict | None:
    return cache.get(_health_key(room_id))


def _missing_lock_key(stream_id: int) -> str:
    return f"rooms:lock-missing:{stream_id}"


def lock_missing_since(stream_id: int, *, older_than: float) -> bool:
    """Note that a live stream's lock was missing now; True when it was also missing at
    a sweep at least `older_than` seconds ago (rooms.services.end_abandoned_streams)."""
    import time

    key = _missing_lock_key(stream_id)
    now = time.time()
    first_seen = cache.get(key)
    if first_seen is None:
        # Kept long enough to outlive the gap between sweeps several times over.
        cache.set(key, now, timeout=max(600, int(older_than * 20)))
        return False
    return now - first_seen >= older_than


def forget_missing_locks(stream_ids) -> None:
    """Their locks are held again: a later miss starts a new suspicion."""
    cache.delete_many([_missing_lock_key(stream_id) for stream_id in stream_ids])
