"""What a reviewer sees around an item: the chat around a message, the user's record, the room.

Read-only queries for the admin review page; nothing here changes state.
"""

from dataclasses import dataclass, field

from chat.models import ChatMessage
from moderation import conf
from moderation.models import Restriction, ReviewItem

HISTORY_SIZE = 20


@dataclass
class ReviewContext:
    item: ReviewItem
    before: list = field(default_factory=list)  # messages just before the reviewed one
    message: ChatMessage | None = None
    after: list = field(default_factory=list)
    user_messages: list = field(default_factory=list)  # the user's latest messages, any room
    user_restrictions: list = field(default_factory=list)
    user_items: list = field(default_factory=list)  # the user's other review items
    reports: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)


def _around(message: ChatMessage, size: int) -> tuple[list, list]:
    room_messages = ChatMessage.objects.filter(room_id=message.room_id).select_related("user")
    before = list(room_messages.filter(pk__lt=message.pk).order_by("-pk")[:size])
    after = list(room_messages.filter(pk__gt=message.pk).order_by("pk")[:size])
    return before[::-1], after


def context_of(item: ReviewItem, rooms: set[int] | None = None) -> ReviewContext:
    """Everything around `item`; the user's record only in `rooms` when given (a room
    moderator sees what the user did in the rooms they moderate, not elsewhere)."""
    context = ReviewContext(item=item)
    if item.message_id:
        context.message = (
            ChatMessage.objects.select_related("user").filter(pk=item.message_id).first()
        )
        if context.message is not None:
            context.before, context.after = _around(context.message, conf.context_messages())
    if item.user_id:
        scope = {} if rooms is None else {"room_id__in": rooms}
        context.user_messages = list(
            ChatMessage.objects.filter(user_id=item.user_id, **scope)
            .select_related("room")
            .order_by("-pk")[:HISTORY_SIZE]
        )
        context.user_restrictions = list(
            Restriction.objects.filter(user_id=item.user_id, **scope)
            .select_related("room", "created_by")
            .order_by("-created_at")[:HISTORY_SIZE]
        )
        context.user_items = list(
            ReviewItem.objects.filter(user_id=item.user_id, **scope)
            .exclude(pk=item.pk)
            .order_by("-created_at")[:HISTORY_SIZE]
        )
    context.reports = list(item.reports.select_related("reporter").order_by("created_at"))
    context.snapshots = list(item.snapshots.order_by("-taken_at"))
    return context
