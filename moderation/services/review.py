"""The review queue: held and flagged messages and reported targets, and what a moderator decides.

One open item per target (`open_key`): a second report of the same message
joins its item. Resolving an item frees the key, so later trouble opens a new
item. Every outcome is an audit entry linked to the item.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from chat import services as chat
from chat.models import ChatMessage
from infra.after_commit import after_commit
from moderation import conf, events
from moderation.errors import InvalidAction, NotAllowed
from moderation.models import ReviewItem
from moderation.services import restrictions, room_tools
from moderation.services.audit import record
from rooms import directory_feed
from rooms import services as rooms
from rooms.models import Room

log = logging.getLogger(__name__)
EXPIRE_BATCH = 500


def message_key(message_id: int) -> str:
    return f"message:{message_id}"


def user_key(user_id: int, room_id: int | None) -> str:
    return f"user:{user_id}:{room_id or 'site'}"


def room_key(room_id: int) -> str:
    return f"room:{room_id}"


def open_item(key: str, **fields) -> tuple[ReviewItem, bool]:
    """The open item for `key`, locked, created with `fields` if there is none."""
    item = ReviewItem.objects.select_for_update().filter(open_key=key).first()
    if item is not None:
        return item, False
    try:
        with transaction.atomic():
            return ReviewItem.objects.create(open_key=key, **fields), True
    except IntegrityError:  # another report opened it between our read and our insert
        return ReviewItem.objects.select_for_update().get(open_key=key), False


# --- what the filter and the scoring put in the queue ---------------------------------------
@transaction.atomic
def hold_message(message_id: int, room_id: int, user_id: int, reasons: list[dict]) -> ReviewItem:
    """The filter held a message (stored hidden): a moderator approves or removes it."""
    item, _ = open_item(
        message_key(message_id),
        kind=ReviewItem.Kind.MESSAGE,
        source=ReviewItem.Source.HELD,
        reason=reasons[0]["code"] if reasons else "held",
        reasons=reasons,
        room_id=room_id,
        message_id=message_id,
        user_id=user_id,
    )
    _queue_changed_on_commit(room_id)
    record(
        None,
        "hold",
        room=room_id,
        target_user=user_id,
        message_id=message_id,
        review_item=item,
        reason=item.reason,
    )
    return item


@transaction.atomic
def flag_message(message: ChatMessage, score: float, reasons: list[dict], retract: bool):
    """Scoring found `message` bad: queue it, and take it off every screen if `retract`."""
    item, created = open_item(
        message_key(message.pk),
        kind=ReviewItem.Kind.MESSAGE,
        source=ReviewItem.Source.SCORED,
        reason=reasons[0]["code"] if reasons else "scored",
        reasons=reasons,
        score=score,
        room_id=message.room_id,
        message_id=message.pk,
        user_id=message.user_id,
    )
    changed = created
    if not created:
        # A report already opened it, or this is a redelivered batch (a worker died before
        # acknowledging it): add only what the item does not say yet, so a verdict repeated
        # changes nothing and is not audited twice.
        new_reasons = [reason for reason in reasons if reason not in item.reasons]
        if new_reasons or score > (item.score or 0.0):
            item.score = max(item.score or 0.0, score)
            item.reasons = [*item.reasons, *new_reasons]
            item.save(update_fields=["score", "reasons", "updated_at"])
            changed = True
    if retract and message.deleted_at is None:
        chat.retract_message(message)
        changed = True
    if not changed:
        return item
    _queue_changed_on_commit(message.room_id)
    record(
        None,
        "auto_retract" if retract else "flag",
        room=message.room_id,
        target_user=message.user_id,
        message_id=message.pk,
        review_item=item,
        reason=item.reason,
        score=score,
    )
    return item


# --- what a moderator decides -------------------------------------------------------------------
def _locked(item: ReviewItem) -> ReviewItem:
    # No select_related: FOR UPDATE would lock the room's and the user's rows too.
    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if item.state != ReviewItem.State.OPEN:
        raise InvalidAction("This item was already resolved.")
    return item


def _check_reviews(by, item: ReviewItem) -> None:
    allowed = permissions.is_staff(by) or (
        item.room is not None and permissions.can_moderate_room(by, item.room)
    )
    if not allowed:
        raise NotAllowed("Only the room's moderators and staff may review this.")


def _resolve(by, item: ReviewItem, resolution: str, reason: str = "", **details) -> ReviewItem:
    item.state = ReviewItem.State.RESOLVED
    item.open_key = None
    item.resolution = resolution
    item.resolved_by = by
    item.resolved_at = timezone.now()
    item.save()
    _tell_sender_on_commit(item, resolution)
    _queue_changed_on_commit(item.room_id)
    record(
        by,
        f"review_{resolution}",
        room=item.room_id,
        target_user=item.user_id,
        message_id=item.message_id,
        review_item=item,
        reason=reason,
        **details,
    )
    return item


def _queue_changed_on_commit(room_id: int | None) -> None:
    from moderation.services.room_queue import queue_changed_on_commit  # it imports us

    queue_changed_on_commit(room_id)


def _tell_sender_on_commit(item: ReviewItem, resolution: str) -> None:
    """A held message's sender hears what became of it, whatever it was."""
    if item.source != ReviewItem.Source.HELD or item.user_id is None or item.room_id is None:
        return
    outcome = {"approved": "approved", "expired": "expired"}.get(resolution, "removed")
    frame = {item.user_id: events.held_outcome(item, outcome)}
    after_commit(lambda: directory_feed.send_to_users(frame), "held_outcome")


def expire_held_messages(now=None) -> int:
    """Drop held messages nobody reviewed within MODERATION_HELD_REVIEW_SECONDS (they stay
    hidden; the item is resolved `expired` in the audit log, the sender is told). Returns
    how many; a periodic task calls it."""
    seconds = conf.held_review_seconds()
    if seconds <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(seconds=seconds)
    due = ReviewItem.objects.filter(
        state=ReviewItem.State.OPEN, source=ReviewItem.Source.HELD, created_at__lte=cutoff
    )
    expired = 0
    for item in due.order_by("pk")[:EXPIRE_BATCH]:
        with transaction.atomic():
            try:
                item = _locked(item)
            except InvalidAction:
                continue  # a moderator decided meanwhile
            _resolve(None, item, "expired", f"Not reviewed within {seconds} s")
            expired += 1
    if expired:
        log.info("dropped %d held messages nobody reviewed in %d s", expired, seconds)
    return expired


def _message_of(item: ReviewItem) -> ChatMessage | None:
    if item.kind != ReviewItem.Kind.MESSAGE or item.message_id is None:
        return None
    return ChatMessage.objects.filter(pk=item.message_id).first()


@transaction.atomic
def approve(by, item: ReviewItem, reason: str = "") -> ReviewItem:
    """Nothing wrong: a message the filter held or the scoring retracted goes back on screen."""
    item = _locked(item)
    _check_reviews(by, item)
    message = _message_of(item)
    automatic = item.source in (ReviewItem.Source.HELD, ReviewItem.Source.SCORED)
    if message is not None and automatic and message.deleted_at is not None:
        chat.restore_message(message)
    return _resolve(by, item, "approved", reason)


@transaction.atomic
def delete_reviewed_message(by, item: ReviewItem, reason: str = "") -> ReviewItem:
    item = _locked(item)
    _check_reviews(by, item)
    message = _message_of(item)
    if message is None:
        raise InvalidAction("Only a message can be deleted.")
    room_tools.delete_message(by, item.room_id, message.pk, reason)
    return _resolve(by, item, "deleted", reason)


def _author(item: ReviewItem):
    if item.user is None or item.room is None:
        raise InvalidAction("This item has no user in a room to act on.")
    return item.user


@transaction.atomic
def time_out_author(by, item: ReviewItem, minutes: int, reason: str = "") -> ReviewItem:
    item = _locked(item)
    _check_reviews(by, item)
    restrictions.timeout_user(by, item.room, _author(item), minutes, reason)
    return _resolve(by, item, "timed_out", reason, minutes=minutes)


@transaction.atomic
def ban_author_from_room(by, item: ReviewItem, reason: str = "") -> ReviewItem:
    item = _locked(item)
    _check_reviews(by, item)
    restrictions.ban_user(by, item.room, _author(item), reason)
    return _resolve(by, item, "banned", reason)


@transaction.atomic
def ban_author_from_site(by, item: ReviewItem, reason: str = "") -> ReviewItem:
    item = _locked(item)
    if item.user is None:
        raise InvalidAction("This item has no user to ban.")
    restrictions.ban_from_site(by, item.user, reason)
    return _resolve(by, item, "site_banned", reason)


@transaction.atomic
def end_reviewed_stream(by, item: ReviewItem, reason: str = "") -> ReviewItem:
    """Staff: end the room's live stream and revoke its stream key. A staff stop: the owner
    can neither make a new key nor press Start until staff start the room again."""
    item = _locked(item)
    if not permissions.is_staff(by):
        raise NotAllowed("Only staff may end a stream from the review queue.")
    if item.room is None:
        raise InvalidAction("This item has no room.")
    room = Room.objects.get(pk=item.room_id)
    stream = rooms.stop_room(room, by, reason)
    rooms.revoke_stream_key(room, by, reason)
    return _resolve(by, item, "stream_ended", reason, stream=stream.pk if stream else None)


# --- stream moderation -------------------------------------------------------------------------
def keep_stream_snapshot(review_item_id: int):
    """Copy the reported room's current thumbnail (written by the transcoder) beside the item.

    Returns the StreamSnapshot, or None when the room is not live or the
    transcoder has written no thumbnail (the reviewer then sees none).
    """
    from django.core.files import File

    from moderation import conf
    from moderation.models import StreamSnapshot

    item = ReviewItem.objects.select_related("room").filter(pk=review_item_id).first()
    if item is None or item.room is None or not item.room.is_live:
        return None
    thumbnail = conf.hls_root() / item.room.slug / "thumbnail.jpg"
    try:
        handle = thumbnail.open("rb")
    except OSError:
        return None
    with handle:
        snapshot = StreamSnapshot(
            review_item=item, room=item.room, stream_id=item.room.current_stream_id
        )
        snapshot.image.save(f"{timezone.now():%Y%m%d-%H%M%S}.jpg", File(handle), save=True)
    record(None, "keep_snapshot", room=item.room, review_item=item, snapshot=snapshot.pk)
    return snapshot
