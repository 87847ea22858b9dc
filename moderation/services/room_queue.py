"""A room's own review queue, beside its chat: what its moderators and owner see and decide.

The same items as the admin's queue (held and flagged messages, reports), limited to
one room, decided through the same review services (permissions, audit log, socket
enforcement). Whenever the room's queue changes (an item opens, gains a report, or is
resolved) its moderators' open pages hear `moderation.queue` over their directory
socket and refetch the queue.
"""


from accounts import permissions
from infra.after_commit import after_commit
from moderation import conf, events
from moderation.errors import InvalidAction, NotAllowed, UnknownTarget
from moderation.models import ReviewItem
from moderation.services import review
from rooms import directory_feed
from rooms import services as rooms

QUEUE_SIZE = 50
DECISIONS = ("approve", "remove", "timeout", "ban")


def open_items(by, room) -> list[ReviewItem]:
    """The room's open items, newest first, with their message and user loaded."""
    if not permissions.can_moderate_room(by, room):
        raise NotAllowed("Only the room's moderators may see its queue.")
    items = ReviewItem.objects.filter(room=room, state=ReviewItem.State.OPEN)
    items = items.select_related("message", "user").prefetch_related("reports")
    return list(items.order_by("-created_at", "-pk")[:QUEUE_SIZE])


def decide(by, room, item_id, decision: str, minutes=None, reason: str = "") -> ReviewItem:
    """One click on the room page: approve, remove (the message), time out or ban the
    author in this room. Only items of this room are reachable."""
    if not permissions.can_moderate_room(by, room):
        raise NotAllowed("Only the room's moderators may decide.")
    if decision not in DECISIONS:
        raise InvalidAction(f"Choose one of: {', '.join(DECISIONS)}.")
    if isinstance(item_id, bool) or not str(item_id).isdigit() or len(str(item_id)) > 19:
        raise UnknownTarget("No such item in this room's queue.")
    item = ReviewItem.objects.filter(pk=int(item_id), room=room).first()
    if item is None:
        raise UnknownTarget("No such item in this room's queue.")
    if decision == "approve":
        return review.approve(by, item, reason)
    if decision == "remove":
        return review.delete_reviewed_message(by, item, reason)
    if decision == "ban":
        return review.ban_author_from_room(by, item, reason)
    if minutes is None:
        minutes = 10
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidAction(f"A timeout is 1 to {conf.max_timeout_minutes()} minutes.")
    return review.time_out_author(by, item, minutes, reason)


def queue_changed_on_commit(room_id: int | None) -> None:
    """Tell the room's moderators' open pages to refetch its queue, after the commit."""
    if room_id is None:
        return
    after_commit(lambda: _announce(room_id), "moderation_queue")


def _announce(room_id: int) -> None:
    moderators, slug = rooms.moderator_ids(room_id)
    frame = events.queue_changed(slug)
    directory_feed.send_to_users({user_id: frame for user_id in moderators})
