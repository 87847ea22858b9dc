"""Clip actions: make one from a live stream, count views, delete, allow or refuse clips.

Any signed-in viewer of a live room may clip its last CLIPS_MIN_SECONDS to
CLIPS_MAX_SECONDS (30 by default), at most CLIPS_PER_USER_LIMIT clips per
CLIPS_PER_USER_WINDOW seconds; its owner may turn clipping off; its owner, moderators
and staff (and the clip's maker) may delete a clip. Clips are kept until deleted,
whatever REPLAY_RETENTION_HOURS says. The files are in clips/files.py, next to the
room's recording (so this runs where HLS_ROOT is: the web process on a one-machine
install, or with HLS_ROOT on shared storage).
"""

import secrets
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from accounts import permissions
from clips import conf, files
from clips.errors import ClipNotAllowed, ClipRefused, TooManyClips
from clips.models import Clip, ClipChoice
from infra import ratelimit
from infra.after_commit import after_commit
from moderation import services as moderation

RATE_SCOPE = "clips"
LATEST_KEY = "clips:latest"


def _live_folder(room) -> Path:
    return conf.hls_root() / room.slug


def clips_allowed(room) -> bool:
    return not ClipChoice.objects.filter(room_id=room.pk, allowed=False).exists()


def set_clips_allowed(by, room, allowed: bool) -> None:
    if not permissions.can_manage_room(by, room):
        raise ClipNotAllowed("Only the room's owner may turn clips on or off.")
    ClipChoice.objects.update_or_create(room_id=room.pk, defaults={"allowed": bool(allowed)})


def _seconds(value) -> int:
    low, high = conf.min_seconds(), conf.max_seconds()
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise ClipRefused(f"A clip is {low} to {high} seconds long.") from None
    if isinstance(value, bool) or not low <= seconds <= high:
        raise ClipRefused(f"A clip is {low} to {high} seconds long.")
    return seconds


def make_clip(by, room, seconds=30, title: str = "") -> Clip:
    """Clip the room's last `seconds`; refuses clearly what cannot be clipped."""
    if not permissions.is_signed_in(by):
        raise ClipNotAllowed("Log in to make clips.")
    if moderation.is_restricted(by.pk, room.pk):
        raise ClipNotAllowed("You are banned or timed out in this room.")
    seconds = _seconds(seconds)
    if not room.is_live or room.current_stream_id is None:
        raise ClipRefused("This room is offline: clips are made from a live stream.")
    if not clips_allowed(room):
        raise ClipRefused("The broadcaster turned clips off for this room.")
    limit, window = conf.per_user_limit(), conf.per_user_window()
    if ratelimit.exceeded(RATE_SCOPE, str(by.pk), limit):
        raise TooManyClips(f"You can make {limit} clips every {window // 60} minutes; wait a bit.")
    public_id = secrets.token_urlsafe(9)
    made = files.make_clip(_live_folder(room), public_id, seconds)
    if made is None:
        raise ClipRefused("Nothing of this stream is recorded yet: try again in a few seconds.")
    length, has_thumbnail = made
    ratelimit.hit(RATE_SCOPE, str(by.pk), window)
    title = " ".join(str(title).split())[:100] or f"{room.title[:80]} clip"
    _forget_latest_on_commit()
    return Clip.objects.create(
        public_id=public_id,
        room=room,
        stream_id=room.current_stream_id,
        creator=by,
        title=title,
        seconds=round(length, 3),
        has_thumbnail=has_thumbnail,
    )


def can_delete(by, clip: Clip) -> bool:
    made_it = permissions.is_signed_in(by) and clip.creator_id == by.pk
    return made_it or permissions.can_moderate_room(by, clip.room)


def delete_clip(by, clip: Clip) -> None:
    if not can_delete(by, clip):
        raise ClipNotAllowed("Only the room's owner and moderators may delete this clip.")
    with transaction.atomic():
        Clip.objects.filter(pk=clip.pk).delete()
        _forget_latest_on_commit()
        folder, public_id = _live_folder(clip.room), clip.public_id
        after_commit(lambda: files.delete_clip(folder, public_id), "clip_files")


def count_view(clip: Clip) -> None:
    Clip.objects.filter(pk=clip.pk).update(views=F("views") + 1)
    clip.views += 1


def clip_by_public_id(public_id: str) -> Clip | None:
    if not isinstance(public_id, str) or len(public_id) > 16:
        return None
    return Clip.objects.select_related("room__owner", "creator").filter(public_id=public_id).first()


def recent_clips(room, limit: int = 12) -> list[Clip]:
    return list(Clip.objects.filter(room=room).order_by("-created_at")[:limit])


def latest_clips(limit: int = 12, owner=None) -> list[Clip]:
    """The newest clips of every room (the directory: cached like it, forgotten when a
    clip is made or deleted, so an anonymous directory view still costs no query), or of
    `owner`'s rooms (a profile)."""
    found = Clip.objects.select_related("room__owner").order_by("-created_at")
    if owner is not None:
        return list(found.filter(room__owner=owner)[:limit])
    latest = cache.get(LATEST_KEY)
    if latest is None:
        latest = list(found[:limit])
        cache.set(LATEST_KEY, latest, conf.latest_cache_seconds())
    return latest


def _forget_latest_on_commit() -> None:
    after_commit(lambda: cache.delete(LATEST_KEY), "clip_cache")


def disk_bytes(room) -> int:
    """What the room's clips hold on disk, for the stream manager."""
    return files.disk_bytes(_live_folder(room))
