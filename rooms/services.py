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
from rooms.models import Room, RoomModerator, Stream

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
