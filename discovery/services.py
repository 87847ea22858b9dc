"""Search and categories: what the header's search box and the category pages list.

Reads only. Rooms come from the rooms app's models and cache (`rooms.cache.live_rooms`,
forgotten whenever a room changes, so live status is never older than the last
change); viewer counts from realtime.presence (one MGET per page). Matching is in
`discovery.matching`. A query's matches are cached for SEARCH_CACHE_SECONDS under its
words, so a popular query costs the database once per that window whatever its page
or sort; the live-first order is laid over them on every request from the live rooms.
"""

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.core.paginator import Page, Paginator

from discovery import conf, matching
from realtime import presence
from rooms import cache as rooms_cache
from rooms.models import Room

SORTS = ("viewers", "newest")
PAGE_SIZE = 24
MAX_RESULTS = 240  # ten pages; a query that needs more is a query to refine
MAX_CATEGORY_CHARS = 50


@dataclass
class Category:
    name: str
    live_rooms: int
    viewers: int


@dataclass
class Listing:
    page: Page
    sort: str
    viewers: int = 0  # a category's total


def clean_sort(sort) -> str:
    return sort if sort in SORTS else SORTS[0]


def _with_live_state(rooms: list[Room]) -> list[Room]:
    """Each room's status as of now (the cached matches may be older), and its viewers."""
    live = {room.pk: room for room in rooms_cache.live_rooms()}
    counts = presence.viewer_counts(room.pk for room in rooms if room.pk in live)
    for room in rooms:
        if room.pk in live:
            room.status = Room.Status.LIVE
            room.current_stream = live[room.pk].current_stream
            room.viewer_count = counts.get(room.pk, 0)
        elif room.status == Room.Status.LIVE:
            room.status = Room.Status.ENDED
            room.viewer_count = None
        else:
            room.viewer_count = None
    return rooms


def _started(room: Room) -> float:
    stream = room.current_stream
    return stream.started_at.timestamp() if room.is_live and stream else 0.0


def _ordered(rooms: list[Room], sort: str) -> list[Room]:
    """Live rooms first, by viewers or by newest stream; then the rest, most recently
    changed first (their order as matched)."""
    live = [room for room in rooms if room.is_live]
    rest = [room for room in rooms if not room.is_live]
    if sort == "viewers":
        live.sort(key=lambda room: (-room.viewer_count, -_started(room)))
    else:
        live.sort(key=lambda room: -_started(room))
    return live + rest


def _matches(words: list[str]) -> list[Room]:
    digest = hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]
    key = f"discovery:search:{digest}"
    found = cache.get(key)
    if found is None:
        found = list(matching.matching_rooms(words, MAX_RESULTS))
        cache.set(key, found, conf.search_cache_seconds())
    return found


def search_rooms(query: str, sort: str = "viewers", page=1) -> Listing:
    """Rooms matching `query` (title, tags, category, broadcaster name), live first."""
    sort = clean_sort(sort)
    rooms = _ordered(_with_live_state(_matches(matching.words_of(query))), sort)
    return Listing(page=Paginator(rooms, PAGE_SIZE).get_page(page), sort=sort)


def categories() -> list[Category]:
    """Categories with live rooms, most watched first (names compared case-insensitively,
    shown as their most recently live room spells them)."""
    live = rooms_cache.live_rooms()
    counts = presence.viewer_counts(room.pk for room in live)
    found: dict[str, Category] = {}
    for room in live:
        if not room.category:
            continue
        entry = found.setdefault(room.category.casefold(), Category(room.category, 0, 0))
        entry.live_rooms += 1
        entry.viewers += counts.get(room.pk, 0)
    return sorted(found.values(), key=lambda c: (-c.viewers, -c.live_rooms, c.name.casefold()))


def category(name: str, sort: str = "viewers", page=1) -> Listing:
    """The live rooms of category `name` with their viewer counts and the category's total."""
    sort = clean_sort(sort)
    wanted = str(name)[:MAX_CATEGORY_CHARS].strip().casefold()
    live = [room for room in rooms_cache.live_rooms() if room.category.casefold() == wanted]
    counts = presence.viewer_counts(room.pk for room in live)
    for room in live:
        room.viewer_count = counts.get(room.pk, 0)
    rooms = _ordered(live, sort)
    total = sum(room.viewer_count for room in live)
    return Listing(page=Paginator(rooms, PAGE_SIZE).get_page(page), sort=sort, viewers=total)
