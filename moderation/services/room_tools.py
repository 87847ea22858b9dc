"""What a moderator does inside a room: delete a message, clear chat, slow mode, followers-only.

The chat socket's `mod.*` frames, the REST API and admin call these. Chat's own
tables are changed through chat.services; these add the permission check the
moderator's room needs and the audit entry.
"""

from django.db import transaction

from accounts import permissions
from chat import services as chat
from chat.models import ChatMessage
from moderation import conf, events
from moderation.errors import InvalidAction, NotAllowed, UnknownTarget
from moderation.services.audit import record
from moderation.services.rules import rules_changed_on_commit, rules_of
from moderation.services.targets import room_of
from realtime.publish import publish_on_commit


def _check_moderates(by, room) -> None:
    if not permissions.can_moderate_room(by, room):
        raise NotAllowed("Only the room's moderators may do this.")


@transaction.atomic
def delete_message(by, room, message_id: int, reason: str = "") -> ChatMessage:
    """Retract one of the room's messages from every screen, with its audit entry.

    The one delete a person makes, whatever they clicked: the socket's `mod.delete`, the
    review queue beside the chat (REST) and admin's review actions all call it."""
    room = room_of(room)
    _check_moderates(by, room)
    message = ChatMessage.objects.filter(pk=message_id, room_id=room.pk).first()
    if message is None:
        raise UnknownTarget("There is no such message in this room.")
    chat.retract_message(message)
    record(
        by,
        "delete_message",
        room=room,
        target_user=message.user_id,
        message_id=message.pk,
        reason=reason,
        text=message.text,
    )
    return message


@transaction.atomic
def clear_chat(by, room, reason: str = "") -> int:
    """Retract every visible message in the room; returns how many."""
    room = room_of(room)
    _check_moderates(by, room)
    cleared = chat.clear_messages(room.pk, conf.clear_events_max())
    record(by, "clear_chat", room=room, reason=reason, messages=cleared)
    return cleared


@transaction.atomic
def set_slow_mode(by, room, seconds: int) -> int:
    room = room_of(room)
    _check_moderates(by, room)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 3600:
        raise InvalidAction("Slow mode is 0 (off) to 3600 seconds.")
    chat.set_slow_mode(room, seconds)
    record(by, "slow_mode", room=room, seconds=seconds)
    return seconds


@transaction.atomic
def set_followers_only(by, room, on: bool) -> bool:
    """Only followers of the room may chat (moderators always may); takes effect at once."""
    room = room_of(room)
    _check_moderates(by, room)
    rules = rules_of(room)
    if rules.pk is not None and rules.followers_only == bool(on):
        return rules.followers_only
    rules.followers_only = bool(on)
    rules.save()
    record(by, "followers_only", room=room, on=bool(on))
    rules_changed_on_commit(room.pk)
    publish_on_commit(room.pk, events.followers_only(bool(on)))
    return rules.followers_only
