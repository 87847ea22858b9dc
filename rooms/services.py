"""Room actions: create, edit, appoint and remove moderators.

The only place that writes rooms and moderator grants.
"""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts import permissions
from chat.broadcast import publish_on_commit
from rooms import events
from rooms.errors import InvalidRoom, NotAllowed
from rooms.models import Follow, Room, RoomModerator, Stream
from rooms.stream_keys import hash_stream_key, new_stream_key, stream_key_matches

SLUG_ATTEMPTS = 5


def _slug_for(title: str) -> str:
    base = slugify(title)[:48].strip("-") or "room"
    if not Room.objects.filter(slug=base).exists():
        return base
    return f"{base}-{secrets.token_hex(3)}"


def create_room(owner, title: str, description: str = "", category: str = "") -> Room:
    if not permissions.can_broadcast(owner):
        raise NotAllowed("Only broadcasters may create rooms.")
    title = title.strip()
    if not title:
        raise InvalidRoom("A room needs a title.")
    for _ in range(SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                return Room.objects.create(
                    owner=owner,
                    slug=_slug_for(title),
                    title=title[:120],
                    description=description.strip(),
                    category=category.strip()[:50],
                )
        except IntegrityError:
            continue  # another request took the slug between the check and the insert
    raise InvalidRoom("Could not find a free address for this room; try another title.")


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
    RoomModerator.objects.filter(room=room, user=user).delete()


@transaction.atomic
def start_stream(room: Room) -> Stream:
    """Mark the room live with a new stream; a room already live keeps its stream."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.current_stream_id is not None:
        return room.current_stream
    stream = Stream.objects.create(room=room)
    room.current_stream = stream
    room.status = Room.Status.LIVE
    room.save(update_fields=["current_stream", "status", "updated_at"])
    publish_on_commit(room.pk, events.room_status(room))
    return stream


@transaction.atomic
def end_stream(room: Room) -> Stream | None:
    room = Room.objects.select_for_update().get(pk=room.pk)
    stream = room.current_stream
    if stream is None:
        return None
    stream.ended_at = timezone.now()
    stream.save(update_fields=["ended_at"])
    room.current_stream = None
    room.status = Room.Status.ENDED
    room.save(update_fields=["current_stream", "status", "updated_at"])
    publish_on_commit(room.pk, events.room_status(room))
    return stream


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
    (streaming/ingest/key_watch.py).
    """
    if not permissions.can_see_stream_key(by, room):
        raise NotAllowed("Only the room's owner may see or change its stream key.")
    key = new_stream_key()
    Room.objects.filter(pk=room.pk).update(stream_key_hash=hash_stream_key(key))
    room.stream_key_hash = hash_stream_key(key)
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


def stream_key_hashes(room_ids) -> dict[int, str]:
    """Current key hash of each room: one query for every stream an ingest holds."""
    return dict(Room.objects.filter(pk__in=list(room_ids)).values_list("pk", "stream_key_hash"))


def revoke_stream_key(room: Room, by) -> None:
    """Staff or the owner: the room's key stops authorizing and no new one is made (moderation).

    The owner makes a new key with rotate_stream_key when they may stream again.
    """
    if not permissions.can_manage_room(by, room):
        raise NotAllowed("Only the room's owner or staff may revoke its stream key.")
    Room.objects.filter(pk=room.pk).update(stream_key_hash="")
    room.stream_key_hash = ""


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
