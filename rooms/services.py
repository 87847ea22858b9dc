"""Room actions: create, edit, start and stop, streams and replays, moderators, follows.

The only place that writes rooms, streams and moderator grants. Every change a page
or the directory shows goes through `_changed`, which invalidates the cached room
(rooms/cache.py) and announces a status change to open directory pages once the
transaction commits.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts import permissions
from infra.after_commit import after_commit
from realtime import control
from realtime.publish import publish_on_commit
from rooms import cache, conf, directory_feed, events, signals
from rooms.errors import InvalidRoom, NotAllowed
from rooms.models import Follow, Room, RoomModerator, Stream, StreamIncident
from rooms.stream_keys import hash_stream_key, new_stream_key, stream_key_matches

SLUG_ATTEMPTS = 5
MAX_TAGS = 5
TAG_LENGTH = 25
_TAG = re.compile(r"[^\w-]+")
_CHOSEN_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,58})[a-z0-9]")
GO_LIVE_TOKEN_PREFIX = "golive_"  # noqa: S105 -- a marker, not a secret
GO_LIVE_TOKEN_SALT = "rooms.go_live"  # noqa: S105 -- a namespace, not a secret
GO_LIVE_TOKEN_SECONDS = 12 * 3600
RESERVED_SLUGS = {"new", "api", "admin", "static", "media", "hls", "ws", "live", "directory"}


def _changed(room: Room, status_changed: bool = False) -> None:
    cache.invalidate(room)
    if status_changed:
        publish_on_commit(room.pk, events.room_status(room))
        directory_feed.announce(room)


def clean_tags(text: str) -> str:
    """At most MAX_TAGS distinct lower-case words (letters, digits, - and _), in order."""
    tags = []
    for word in re.split(r"[\s,#]+", text.lower()):
        word = _TAG.sub("", word)[:TAG_LENGTH]
        if word and word not in tags:
            tags.append(word)
    return " ".join(tags[:MAX_TAGS])


def _slug_for(title: str) -> str:
    base = slugify(title)[:48].strip("-") or "room"
    if base in RESERVED_SLUGS or len(base) < 3:
        base = f"{base}-room"
    if not Room.objects.filter(slug=base).exists():
        return base
    return f"{base}-{secrets.token_hex(3)}"


def _chosen_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not _CHOSEN_SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise InvalidRoom(
            "An address is 3 to 60 lower-case letters, digits and dashes, "
            "starting and ending with a letter or digit.",
            field="slug",
        )
    if Room.objects.filter(slug=slug).exists():
        raise InvalidRoom(f"The address “{slug}” is taken; choose another.", field="slug")
    return slug


def create_room(
    owner,
    title: str,
    description: str = "",
    category: str = "",
    tags: str = "",
    slug: str = "",
) -> Room:
    """A new room; its `slug` (address and video folder) is chosen here or made from the
    title, and never changes afterwards."""
    if not permissions.can_broadcast(owner):
        raise NotAllowed("Only broadcasters may create rooms.")
    title = title.strip()
    if not title:
        raise InvalidRoom("A room needs a title.")
    chosen = _chosen_slug(slug) if slug.strip() else None
    for _ in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    owner=owner,
                    slug=chosen or _slug_for(title),
                    title=title[:120],
                    description=description.strip()[:2000],
                    category=category.strip()[:50],
                    tags=clean_tags(tags),
                )
                _changed(room)
                return room
        except IntegrityError:
            if chosen:
                message = f"The address “{chosen}” is taken; choose another."
                raise InvalidRoom(message, field="slug") from None
            continue  # another request took the slug between the check and the insert
    raise InvalidRoom("Could not find a free address for this room; try another title.")


def edit_room(room: Room, by, *, title: str, description: str, category: str, tags: str) -> Room:
    """Change what viewers read about the room. The slug (its address, and its video
    folder) never changes: links and players in the wild keep working."""
    if not permissions.can_manage_room(by, room):
        raise NotAllowed("Only the room's owner or staff may edit it.")
    title = title.strip()
    if not title:
        raise InvalidRoom("A room needs a title.")
    room.title = title[:120]
    room.description = description.strip()[:2000]
    room.category = category.strip()[:50]
    room.tags = clean_tags(tags)
    with transaction.atomic():
        room.save(update_fields=["title", "description", "category", "tags", "updated_at"])
        _changed(room)
    return room


@transaction.atomic
def stop_room(room: Room, by, reason: str = "") -> Stream | None:
    """Stop button: end the live stream now (no reconnect grace) and refuse new publishes
    until Start. An ingest publishing the room sees this within INGEST_KEY_CHECK_MS and
    drops its publisher (streaming/ingest/watch.py). Returns the ended stream.

    Staff stopping someone else's room record it as a staff stop: only staff may Start
    the room again, and the owner reads `reason` on the dashboard."""
    if not permissions.can_manage_room(by, room):
        raise NotAllowed("Only the room's owner or staff may stop it.")
    changes = {"accepting_streams": False}
    if not permissions.owns_room(by, room):
        changes.update(stopped_by_staff=True, staff_stop_reason=reason.strip()[:500])
    Room.objects.filter(pk=room.pk).update(**changes)
    for field, value in changes.items():
        setattr(room, field, value)
    ended = end_stream(room)
    _changed(room)
    return ended


def start_room(room: Room, by) -> None:
    """Start button: the room accepts a publisher again; it goes live when OBS connects.

    The owner cannot undo staff (a staff stop, a key staff revoked, broadcasting taken
    away, a site ban): `may_publish` names what holds the room. Staff starting a room
    lift their stop."""
    if not permissions.can_manage_room(by, room):
        raise NotAllowed("Only the room's owner or staff may start it.")
    if not permissions.is_staff(by):
        _check_owner_may_clear(may_publish(room))
    with transaction.atomic():
        Room.objects.filter(pk=room.pk).update(
            accepting_streams=True, stopped_by_staff=False, staff_stop_reason=""
        )
        room.accepting_streams = True
        room.stopped_by_staff = False
        room.staff_stop_reason = ""
        _changed(room)


def appoint_moderator(room: Room, by, user) -> RoomModerator:
    if not permissions.can_appoint_moderators(by, room):
        raise NotAllowed("Only the room's owner may appoint moderators.")
    if user.pk == room.owner_id:
        raise InvalidRoom("The owner already moderates the room.")
    grant, _ = RoomModerator.objects.get_or_create(
        room=room, user=user, defaults={"granted_by": by}
    )
    return grant


def remove_moderator(room: Room, by, user) -> None:
    if not permissions.can_appoint_moderators(by, room):
        raise NotAllowed("Only the room's owner may remove moderators.")
    removed, _ = RoomModerator.objects.filter(room=room, user=user).delete()
    if removed:
        # Their open sockets moderate no more: they reconnect with a viewer's rights.
        publish_on_commit(room.pk, control.rights_changed(user.pk))


@transaction.atomic
def start_stream(room: Room, replace_stale: bool = False) -> Stream:
    """Mark the room live with a new stream; a room already live keeps its stream, unless
    `replace_stale` (an ingest that just took the room's live lock: whoever left a stream
    open is gone), which ends that one, as abandoned, and starts a new one."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.current_stream_id is not None:
        if not replace_stale:
            return room.current_stream
        stale = room.current_stream
        stale.ended_at = timezone.now()
        stale.save(update_fields=["ended_at"])
        record_incident(
            stale.pk,
            StreamIncident.Kind.ABANDONED,
            "Its ingest vanished; the next publish started a new stream.",
        )
    stream = Stream.objects.create(room=room)
    room.current_stream = stream
    room.status = Room.Status.LIVE
    room.save(update_fields=["current_stream", "status", "updated_at"])
    _changed(room, status_changed=True)
    after_commit(lambda: signals.send_stream_started(room, stream), "stream_started")
    return stream


@transaction.atomic
def continue_stream(room: Room, stream_id: int) -> Stream:
    """Keep stream `stream_id` live when it is still the room's open stream (another
    ingest continues it after the one publishing it died, docs/scaling.md); otherwise
    start a new one as `start_stream(room, replace_stale=True)` does."""
    locked = Room.objects.select_for_update().get(pk=room.pk)
    if locked.current_stream_id == stream_id:
        return locked.current_stream
    return start_stream(room, replace_stale=True)


@transaction.atomic
def end_stream(room: Room, stream_id: int | None = None) -> Stream | None:
    """End the room's live stream; with `stream_id`, only if that one is still live (an
    ingest ending its own stream must not end one that started since)."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    stream = room.current_stream
    if stream is None or (stream_id is not None and stream.pk != stream_id):
        return None
    stream.ended_at = timezone.now()
    stream.save(update_fields=["ended_at"])
    room.current_stream = None
    room.status = Room.Status.ENDED
    room.save(update_fields=["current_stream", "status", "updated_at"])
    _changed(room, status_changed=True)
    return stream


# --- who may go live --------------------------------------------------------------------------
# Codes of PublishRefusal, most serious first: the first that applies is the one reported.
OWNER_INACTIVE = "owner_inactive"
BROADCASTING_REVOKED = "broadcasting_revoked"
STAFF_STOPPED = "staff_stopped"
NOT_BROADCASTER = "not_broadcaster"
STOPPED = "stopped"
# What the owner can clear without staff: press Start, turn broadcasting back on.
OWNER_CLEARABLE = {NOT_BROADCASTER, STOPPED}


@dataclass(frozen=True)
class PublishRefusal:
    """Why a room may not go live: a code for programs, a reason for its owner."""

    code: str
    reason: str

    @property
    def owner_may_clear(self) -> bool:
        return self.code in OWNER_CLEARABLE


@dataclass(frozen=True)
class PublishBar:
    """A rule another app adds to `may_publish` without rooms importing it.

    `condition()` returns a boolean query expression over Room (e.g. an Exists() on the
    owner's site ban), so every rule is answered in the same single query.
    """

    code: str
    reason: str
    condition: Callable[[], object]


_publish_bars: dict[str, PublishBar] = {}


def register_publish_bar(code: str, reason: str, condition: Callable[[], object]) -> None:
    """Add a rule that keeps rooms off the air (moderation's site ban, in its AppConfig.ready)."""
    _publish_bars[code] = PublishBar(code, reason, condition)


@dataclass(frozen=True)
class PublishState:
    """What the ingest's watch needs of a room it holds."""

    key_hash: str
    stream_id: int | None
    refusal: PublishRefusal | None


_FACTS = (
    "pk", "stream_key_hash", "current_stream_id", "accepting_streams", "stopped_by_staff",
    "staff_stop_reason", "owner__is_active", "owner__is_broadcaster",
    "owner__broadcasting_revoked_by_staff", "owner__broadcasting_revoked_reason",
)  # fmt: skip


def _publish_facts(room_ids) -> dict[int, dict]:
    """Every fact `may_publish` weighs, for these rooms, in one query."""
    bars = {f"bar_{code}": bar.condition() for code, bar in _publish_bars.items()}
    rows = Room.objects.filter(pk__in=list(room_ids)).annotate(**bars)
    return {row["pk"]: row for row in rows.values(*_FACTS, *bars)}


def _with_reason(text: str, reason: str) -> str:
    return f"{text} Reason: {reason}" if reason else text


def _refusal(facts: dict) -> PublishRefusal | None:
    if not facts["owner__is_active"]:
        return PublishRefusal(OWNER_INACTIVE, "The owner's account is deactivated.")
    if facts["owner__broadcasting_revoked_by_staff"]:
        text = "Staff took broadcasting away from the owner; only staff can give it back."
        reason = facts["owner__broadcasting_revoked_reason"]
        return PublishRefusal(BROADCASTING_REVOKED, _with_reason(text, reason))
    for code, bar in _publish_bars.items():
        if facts[f"bar_{code}"]:
            return PublishRefusal(code, bar.reason)
    if facts["stopped_by_staff"]:
        text = "Staff stopped this room; only staff can start it again."
        return PublishRefusal(STAFF_STOPPED, _with_reason(text, facts["staff_stop_reason"]))
    if not facts["owner__is_broadcaster"]:
        text = "The owner turned broadcasting off; turn it on from the dashboard."
        return PublishRefusal(NOT_BROADCASTER, text)
    if not facts["accepting_streams"]:
        return PublishRefusal(STOPPED, "The room is stopped; press Start on the dashboard.")
    return None


def may_publish(room: Room) -> PublishRefusal | None:
    """None when the room may go live now; otherwise why not.

    The one rule for the ingest (at publish time and while live), the Start button, key
    rotation and the dashboard: the owner is active and a broadcaster, staff have not
    taken broadcasting away or stopped the room, no registered bar applies (a site ban),
    and the room is started."""
    facts = _publish_facts([room.pk]).get(room.pk)
    if facts is None:
        return PublishRefusal(STOPPED, "The room no longer exists.")
    return _refusal(facts)


def publish_states(room_ids) -> dict[int, PublishState]:
    """For the ingest's watch: each room's key hash, live stream id and refusal, in one
    query for every stream an ingest holds. A deleted room is missing from the answer."""
    return {
        pk: PublishState(facts["stream_key_hash"], facts["current_stream_id"], _refusal(facts))
        for pk, facts in _publish_facts(room_ids).items()
    }


def _check_owner_may_clear(refusal: PublishRefusal | None) -> None:
    if refusal is not None and not refusal.owner_may_clear:
        raise NotAllowed(refusal.reason)


def record_incident(stream_id: int, kind: str, detail: str = "") -> StreamIncident:
    return StreamIncident.objects.create(stream_id=stream_id, kind=kind, detail=detail[:4000])


def record_replay(stream_id: int, seconds: float) -> None:
    """The stream's recording is on disk as a replay: keep it REPLAY_RETENTION_HOURS."""
    expires = timezone.now() + timedelta(hours=conf.replay_retention_hours())
    Stream.objects.filter(pk=stream_id).update(
        replay_ready=True, replay_seconds=round(seconds, 3), replay_expires_at=expires
    )
    room = Room.objects.get(streams__pk=stream_id)
    _changed(room)


def expired_replays(now=None) -> list[Stream]:
    now = now or timezone.now()
    return list(
        Stream.objects.select_related("room").filter(replay_ready=True, replay_expires_at__lte=now)
    )


def kept_replays(stream_ids) -> dict[int, str]:
    """Of these stream ids, those whose replay is still offered: id -> the room's slug."""
    rows = Stream.objects.filter(pk__in=list(stream_ids), replay_ready=True).values_list(
        "pk", "room__slug"
    )
    return dict(rows)


def forget_replay(stream: Stream) -> None:
    """The replay's files are gone: it is no longer offered."""
    Stream.objects.filter(pk=stream.pk).update(replay_ready=False)
    _changed(stream.room)


def end_abandoned_streams(still_held, locks_kept_for=lambda: float("inf")) -> list[Stream]:
    """End live streams whose ingest vanished (killed, its machine lost) without ending
    them. `still_held(room_ids)` answers which of the rooms some ingest still holds the
    live lock of; `locks_kept_for()` how many seconds the lock store has been keeping
    locks (Redis's uptime). A missing lock ends its stream at once when the store has
    been up for a whole lock lifetime: every live ingest renews its locks several times
    a lifetime, so a lock gone that long was not renewed. Right after a Redis restart
    every lock is gone at once, and a live ingest takes its back at its next renewal (a
    third of the lifetime): then one sweep's word is not enough, and a stream ends only
    when its lock is missing on two sweeps at least a lock lifetime apart. Called by a
    periodic task (streaming/tasks.py)."""
    ttl = conf.ingest_lock_ttl()
    cutoff = timezone.now() - timedelta(seconds=ttl)
    live = list(
        Room.objects.filter(status=Room.Status.LIVE, current_stream__started_at__lte=cutoff)
    )
    if not live:
        return []
    held = still_held([room.pk for room in live])
    missing = [room for room in live if room.pk not in held]
    cache.forget_missing_locks([room.current_stream_id for room in live if room.pk in held])
    if missing and locks_kept_for() < ttl:
        missing = [
            room
            for room in missing
            if cache.lock_missing_since(room.current_stream_id, older_than=ttl)
        ]
    ended = []
    for room in missing:
        stream = end_stream(room, room.current_stream_id)
        if stream is not None:
            record_incident(
                stream.pk,
                StreamIncident.Kind.ABANDONED,
                "No ingest held the room's live lock; the stream was ended.",
            )
            ended.append(stream)
    return ended


def stream_likes(stream_id: int | None) -> int:
    if stream_id is None:
        return 0
    return Stream.objects.filter(pk=stream_id).values_list("likes", flat=True).first() or 0


def recent_replays(room: Room, limit: int = 6) -> list[Stream]:
    return list(room.streams.filter(replay_ready=True).order_by("-ended_at")[:limit])


def past_streams(room: Room, limit: int = 20) -> list[Stream]:
    """The stream manager's history: newest first, with their incidents."""
    return list(room.streams.order_by("-started_at").prefetch_related("incidents")[:limit])


def record_viewers(stream_id: int, viewers: int) -> None:
    """Raise the stream's peak viewer count if `viewers` beats it (one conditional UPDATE)."""
    Stream.objects.filter(pk=stream_id, peak_viewers__lt=viewers).update(peak_viewers=viewers)


def add_likes(stream_id: int, delta: int) -> int:
    """Add a batch of likes to the stream's total and return the new total."""
    Stream.objects.filter(pk=stream_id).update(likes=F("likes") + delta)
    return Stream.objects.filter(pk=stream_id).values_list("likes", flat=True).first() or 0


def rotate_stream_key(room: Room, by) -> str:
    """Give the room a new stream key and return it: the only time it is readable.

    The old key stops authorizing at once; an ingest still publishing on it sees the
    hash change within its poll interval and drops the connection
    (streaming/ingest/watch.py). Refused while staff hold the room (a key staff
    revoked stays revoked until staff start the room again).
    """
    if not permissions.can_see_stream_key(by, room):
        raise NotAllowed("Only the room's owner may see or change its stream key.")
    _check_owner_may_clear(may_publish(room))
    key = new_stream_key()
    Room.objects.filter(pk=room.pk).update(stream_key_hash=hash_stream_key(key))
    room.stream_key_hash = hash_stream_key(key)
    _changed(room)
    return key


def room_for_stream_key(key: str) -> Room | None:
    """The room this key publishes to, or None for an unknown or rotated key."""
    if not key:
        return None
    room = Room.objects.filter(stream_key_hash=hash_stream_key(key)).first()
    # The lookup is by hash; compare again in constant time so no code path ever
    # depends on a non-constant-time comparison of key material.
    if room is None or not stream_key_matches(key, room.stream_key_hash):
        return None
    return room


def go_live_token(room: Room, by) -> str:
    """A Bearer for the go-live page's WHIP offer. Only the key's hash is stored, so the
    owner's browser cannot send the key itself; this signed token names the room and the
    key it stands for, so rotating (or revoking) the key ends it, as it ends the key."""
    if not permissions.can_see_stream_key(by, room):
        raise NotAllowed("Only the room's owner may go live from the browser.")
    if not room.stream_key_hash:
        raise InvalidRoom("This room has no stream key yet: make one in the stream manager.")
    payload = {"room": room.pk, "key": _key_tag(room.stream_key_hash)}
    return GO_LIVE_TOKEN_PREFIX + signing.dumps(payload, salt=GO_LIVE_TOKEN_SALT)


def _key_tag(stream_key_hash: str) -> str:
    return hashlib.sha256(stream_key_hash.encode()).hexdigest()[:32]


def room_for_publish_credential(credential: str) -> Room | None:
    """The room a stream key, or a go-live token, publishes to (None if neither is valid)."""
    if not credential.startswith(GO_LIVE_TOKEN_PREFIX):
        return room_for_stream_key(credential)
    try:
        payload = signing.loads(
            credential.removeprefix(GO_LIVE_TOKEN_PREFIX),
            salt=GO_LIVE_TOKEN_SALT,
            max_age=GO_LIVE_TOKEN_SECONDS,
        )
    except signing.BadSignature:
        return None
    room = Room.objects.filter(pk=payload.get("room")).first()
    if room is None or not room.stream_key_hash:
        return None
    if not hmac.compare_digest(_key_tag(room.stream_key_hash), str(payload.get("key"))):
        return None
    return room


@transaction.atomic
def revoke_stream_key(room: Room, by, reason: str = "") -> None:
    """Staff or the owner: the room's key stops authorizing and no new one is made.

    Revoked by staff (moderation), it is a staff stop as well: the owner cannot make a
    new key or press Start until staff start the room again."""
    if not permissions.can_manage_room(by, room):
        raise NotAllowed("Only the room's owner or staff may revoke its stream key.")
    changes = {"stream_key_hash": ""}
    if not permissions.owns_room(by, room):
        changes.update(
            accepting_streams=False, stopped_by_staff=True, staff_stop_reason=reason.strip()[:500]
        )
    Room.objects.filter(pk=room.pk).update(**changes)
    for field, value in changes.items():
        setattr(room, field, value)
    _changed(room)


def follow_room(user, room: Room) -> bool:
    """Follow `room`; False when `user` already did."""
    if not permissions.is_signed_in(user):
        raise NotAllowed("Log in to follow rooms.")
    _, created = Follow.objects.get_or_create(user=user, room=room)
    return created


def unfollow_room(user, room: Room) -> None:
    Follow.objects.filter(user_id=user.pk, room=room).delete()


def is_following(user_id: int, room_id: int) -> bool:
    return Follow.objects.filter(user_id=user_id, room_id=room_id).exists()


def follow_of(user, room: Room) -> Follow | None:
    if not permissions.is_signed_in(user):
        return None
    return Follow.objects.filter(user_id=user.pk, room=room).first()


def set_follow_notifications(user_id: int, room_id: int, notify: str) -> bool:
    """Whether the follower hears of the room going live (Follow.Notify); False when
    `user_id` does not follow the room."""
    if notify not in Follow.Notify.values:
        raise InvalidRoom(f"Choose one of: {', '.join(Follow.Notify.values)}.", field="notify")
    return bool(Follow.objects.filter(user_id=user_id, room_id=room_id).update(notify=notify))


def moderator_ids(room_id: int) -> tuple[set[int], str]:
    """The room's owner and appointed moderators (user ids), and the room's slug."""
    owner_id, slug = Room.objects.filter(pk=room_id).values_list("owner_id", "slug").get()
    appointed = RoomModerator.objects.filter(room_id=room_id).values_list("user_id", flat=True)
    return {owner_id, *appointed}, slug


def has_notified_followers(room_id: int) -> bool:
    return Follow.objects.filter(room_id=room_id, notify=Follow.Notify.ALL).exists()


def notified_follower_ids(room_id: int) -> list[int]:
    """Ids of the room's followers who want to hear that it went live, in id order."""
    rows = Follow.objects.filter(room_id=room_id, notify=Follow.Notify.ALL)
    return list(rows.order_by("user_id").values_list("user_id", flat=True))


def ended_recently(stream: Stream, minutes: int) -> bool:
    """Whether another stream of the room ended within `minutes` before `stream` began:
    the room flapped (an encoder reconnecting, a broadcaster restarting OBS)."""
    since = stream.started_at - timedelta(minutes=minutes)
    others = Stream.objects.filter(room_id=stream.room_id, ended_at__gte=since)
    return minutes > 0 and others.exclude(pk=stream.pk).exists()
