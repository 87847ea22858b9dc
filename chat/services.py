"""Chat actions: open a viewer's session, send, delete and like messages, history, likes.

The socket consumer, the REST API and moderation tools call these. Async
functions are on the hot path (called from the consumer's event loop); they
reach the database only through the batch writer or one
`database_sync_to_async` call per action.
"""

from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import permissions
from chat import conf, events, limits, screening
from chat.errors import (
    DuplicateMessage,
    InvalidMessage,
    MessageBlocked,
    MessagePending,
    NotAllowed,
    NotSignedIn,
    RateLimited,
    SignInToResume,
    SlowMode,
    UnknownMessage,
)
from chat.ids import next_message_id, timestamp_ms
from chat.models import ChatMessage, ChatMessageLike, RoomChatSettings
from chat.writer import get_writer
from infra.after_commit import after_commit
from realtime.publish import apublish, publish_on_commit
from rooms.models import Room

# A resend of the same nonce within this window is answered, not sent again.
NONCE_SECONDS = 600
# A nonce is claimed before its message is stored. A claim whose message is still not in
# the database this long after its id was made was left by a process that died between
# the two (kill -9, a lost machine): a resend takes the claim over and stores the message,
# instead of being answered with an original that will never exist. Far above the
# writer's batch time, so a live process's message is never stored twice.
NONCE_ORPHAN_SECONDS = 3


@dataclass(slots=True)
class Session:
    """What the socket knows about a viewer in a room, decided once at connect."""

    room_id: int
    slug: str
    stream_id: int | None
    user: dict | None  # events.user_summary, None for anonymous viewers
    can_chat: bool
    can_moderate: bool
    can_manage: bool = False  # the owner or staff: also gets the stream's health
    status: str = "offline"  # the room's status at connect

    @property
    def user_id(self) -> int | None:
        return self.user["id"] if self.user else None


def open_session(user, slug: str) -> Session | None:
    """The viewer's session in the room `slug`, or None when there is no such room."""
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        return None
    summary = None
    if permissions.is_signed_in(user):
        summary = events.user_summary(
            user.pk, user.public_name, permissions.role_in_room(user, room)
        )
    return Session(
        room_id=room.pk,
        slug=room.slug,
        stream_id=room.current_stream_id,
        user=summary,
        # Roles say who may chat at all; the screen whether this user is kept from it here.
        can_chat=permissions.can_chat(user, room)
        and not screening.screen().is_restricted(user.pk, room.pk),
        can_moderate=permissions.can_moderate_room(user, room),
        can_manage=permissions.can_manage_room(user, room),
        status=room.status,
    )


def slow_mode_of(room_id: int) -> int:
    chat_settings = RoomChatSettings.objects.filter(room_id=room_id).first()
    return chat_settings.slow_mode_seconds if chat_settings else 0


def clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidMessage("Type a message first.")
    if len(text) > conf.message_max_chars():
        raise InvalidMessage(f"Messages are at most {conf.message_max_chars()} characters.")
    if any(ord(c) < 32 and c not in "\t\n" for c in text):
        raise InvalidMessage("Messages cannot contain control characters.")
    return text


async def check_send_rate(session: Session, slow_mode_seconds: int) -> None:
    """The sender's message rate, then the room's slow mode (which its moderators skip):
    the one check of both, before any other work is spent on the message."""
    wait = await limits.take_token(
        f"chat:{session.user_id}", conf.rate_per_second(), conf.rate_burst()
    )
    if wait:
        raise RateLimited(
            f"You are sending messages too fast. Wait {wait:.1f} s.", retry_after=wait
        )
    if slow_mode_seconds and not session.can_moderate:
        left = await limits.claim_window(
            f"slow:{session.room_id}:{session.user_id}", slow_mode_seconds
        )
        if left:
            raise SlowMode(
                f"Slow mode is on: one message every {slow_mode_seconds} s. Wait {left:.0f} s.",
                retry_after=left,
            )


async def send_message(session: Session, hub, text: str, nonce: str | None) -> dict | None:
    """Accept, store and broadcast a message.

    `hub` is the room's chat.hub.RoomHub on this process (stream, slow mode). The
    steps, in order: the sender and the text; a resent nonce is answered, not sent
    again (DuplicateMessage); the rate and slow mode; the screen's decision
    (chat/screening.py); the write; the screen's follow-up; the room's event.
    Returns the frame only the sender gets (a held message's `message_held`), or None
    when the room's `chat.message` is the answer.
    """
    if session.user is None:
        raise NotSignedIn("Log in to chat.")
    text = clean_text(text)
    message_id = next_message_id()
    claim = f"nonce:{session.user_id}:{nonce}" if nonce else None
    if claim:
        original = await limits.claim_once(claim, message_id, NONCE_SECONDS)
        if original is not None and not await _took_over_orphaned_claim(
            claim, original, message_id
        ):
            raise DuplicateMessage(original)
    stored = False
    try:
        await check_send_rate(session, hub.slow_mode_seconds)
        decision = await screening.screen().screen_message(session, text)
        if not decision.stored:
            raise MessageBlocked(decision.message, reasons=list(decision.reasons))
        message = _new_message(session, hub, decision, message_id)
        await get_writer().save(message)
        stored = True
    except BaseException:
        if claim and not stored:  # not sent after all: the same nonce may try again
            await limits.release_claim(claim)
        raise
    # Stored: from here on the claim stays, whatever happens, so a resend of this nonce is
    # answered from what was stored and never stores the message a second time.
    await screening.screen().message_saved(session, message, decision)
    if decision.hidden:
        return events.message_held(message_id, nonce, decision.message, decision.reasons)
    event = events.chat_message(
        message_id, session.slug, session.user, decision.text, timestamp_ms(message_id), nonce
    )
    await apublish(session.room_id, event)
    return None


def _new_message(session: Session, hub, decision, message_id: int) -> ChatMessage:
    now = timezone.now()
    return ChatMessage(
        id=message_id,
        room_id=session.room_id,
        stream_id=hub.stream_id,
        user_id=session.user_id,
        text=decision.text,
        created_at=now,
        deleted_at=now if decision.hidden else None,  # held: hidden until a moderator approves
    )


async def _took_over_orphaned_claim(claim: str, original_id: int, message_id: int) -> bool:
    age = (timestamp_ms(message_id) - timestamp_ms(original_id)) / 1000
    if age < NONCE_ORPHAN_SECONDS:
        return False
    stored = await database_sync_to_async(ChatMessage.objects.filter(pk=original_id).exists)()
    return not stored and await limits.take_over_claim(
        claim, original_id, message_id, NONCE_SECONDS
    )


def original_message_event(session: Session, message_id: int, nonce: str) -> dict | None:
    """What a resend of `nonce` is answered with: the earlier message as its
    acknowledgement, the same `message_held` when it is held for review, or None when it
    is not visible (a moderator deleted it).

    Raises MessagePending when it is not stored yet: the client sends it again a little
    later, by when it is stored, or its claim is orphaned and the resend stores it.
    """
    message = (
        ChatMessage.objects.filter(pk=message_id, user_id=session.user_id)
        .only("id", "text", "deleted_at")
        .first()
    )
    if message is None:
        age = (timezone.now().timestamp() * 1000 - timestamp_ms(message_id)) / 1000
        retry_after = round(max(0.5, NONCE_ORPHAN_SECONDS - age), 1)
        raise MessagePending(
            "Your message is still on its way.", nonce=nonce, retry_after=retry_after
        )
    if message.deleted_at is not None:
        held = screening.screen().held_decision(message_id)
        if held is None:
            return None
        return events.message_held(message_id, nonce, held.message, held.reasons)
    return events.chat_message(
        message.id, session.slug, session.user, message.text, timestamp_ms(message.id), nonce
    )


def message_event(message: ChatMessage, slug: str, role: str) -> dict:
    user = events.user_summary(message.user_id, message.user.public_name, role)
    return events.chat_message(message.id, slug, user, message.text, timestamp_ms(message.id), None)


def _events_for(room: Room, messages: list[ChatMessage]) -> list[dict]:
    roles = permissions.roles_in_room(room, {m.user for m in messages})
    return [message_event(m, room.slug, roles[m.user_id]) for m in messages]


def recent_message_events(room_id: int, limit: int) -> list[dict]:
    """The room's last `limit` visible messages, oldest first, as chat.message events."""
    room = Room.objects.get(pk=room_id)
    messages = list(
        ChatMessage.objects.filter(room_id=room_id, deleted_at__isnull=True)
        .select_related("user")
        .order_by("-id")[:limit]
    )
    messages.reverse()
    return _events_for(room, messages)


def room_state(room_id: int, history: int) -> tuple[list[dict], int]:
    """What a process's room hub starts from: recent messages and the slow mode."""
    return recent_message_events(room_id, history), slow_mode_of(room_id)


def check_may_read_older_history(session) -> None:
    """History beyond what the room keeps in memory (the last CHAT_HISTORY_ON_JOIN
    messages) costs a database read: signed-in users only, so anonymous sockets cannot
    make the database page out the room's history over and over."""
    if session.user is None:
        raise SignInToResume("Sign in to load older messages; reload the room for the latest ones.")


def message_events_after(room_id: int, after_id: int, limit: int) -> tuple[list[dict], bool]:
    """Messages newer than `after_id`, oldest first, and whether that was all of them."""
    room = Room.objects.get(pk=room_id)
    messages = list(
        ChatMessage.objects.filter(room_id=room_id, id__gt=after_id, deleted_at__isnull=True)
        .select_related("user")
        .order_by("id")[: limit + 1]
    )
    complete = len(messages) <= limit
    return _events_for(room, messages[:limit]), complete


async def add_likes(hub, session: Session, count: int) -> None:
    """Queue `count` hearts; the hub sums them and flushes the total a few times a second."""
    if session.user is None:
        raise NotSignedIn("Log in to send likes.")
    await screening.screen().check_not_restricted(session)
    if not 1 <= count <= conf.likes_per_frame():
        raise InvalidMessage(f"Send 1 to {conf.likes_per_frame()} likes at a time.")
    if hub.stream_id is None:
        raise NotAllowed("The room is offline: likes count while it is live.")
    wait = await limits.take_token(f"likes:{session.user_id}", 5, 10)
    if wait:
        raise RateLimited("Slow down a little with the hearts.", retry_after=wait)
    hub.stream_totals.likes_pending += count


@transaction.atomic
def like_message(user, room_id: int, message_id: int) -> int:
    """One like per user per message; returns the message's like count."""
    if not permissions.is_signed_in(user):
        raise NotSignedIn("Log in to like messages.")
    message = ChatMessage.objects.filter(
        pk=message_id, room_id=room_id, deleted_at__isnull=True
    ).first()
    if message is None:
        raise UnknownMessage("That message is gone.")
    try:
        with transaction.atomic():
            ChatMessageLike.objects.create(message=message, user=user)
    except IntegrityError:
        return message.like_count  # liked already: nothing changes
    ChatMessage.objects.filter(pk=message.pk).update(like_count=F("like_count") + 1)
    likes = message.like_count + 1
    if message.stream_id:
        from chat import top

        after_commit(lambda: top.record_like(message.stream_id, message.pk), "top_comments")
    publish_on_commit(room_id, events.chat_liked(message.pk, likes))
    return likes


async def like_message_async(session: Session, message_id: int) -> int:
    if session.user is None:
        raise NotSignedIn("Log in to like messages.")
    await screening.screen().check_not_restricted(session)
    wait = await limits.take_token(f"chat-like:{session.user_id}", 2, 10)
    if wait:
        raise RateLimited("You are liking too fast.", retry_after=wait)
    from accounts.models import User

    def like() -> int:
        return like_message(User.objects.get(pk=session.user_id), session.room_id, message_id)

    return await database_sync_to_async(like)()


def retract_message(message: ChatMessage) -> ChatMessage:
    """Hide a message and tell every viewer: chat's part of a delete.

    Who may delete, and the audit entry, are moderation's: people delete through
    `moderation.services.delete_message` (the socket's `mod.delete`, REST, the review
    queue, admin); delayed scoring retracts through `moderation.services.flag_message`.
    """
    if message.deleted_at is None:
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        publish_on_commit(message.room_id, events.chat_delete(message.pk))
        if message.stream_id and message.like_count:
            from chat import top

            after_commit(lambda: top.forget(message.stream_id, message.pk), "top_comments")
    return message


def restore_message(message: ChatMessage) -> dict:
    """Show again a message moderation hid (held by the filter, or retracted by scoring)."""
    message.deleted_at = None
    message.save(update_fields=["deleted_at"])
    room = Room.objects.get(pk=message.room_id)
    event = _events_for(room, [ChatMessage.objects.select_related("user").get(pk=message.pk)])[0]
    publish_on_commit(message.room_id, event)
    return event


@transaction.atomic
def clear_messages(room_id: int, announce_up_to: int) -> int:
    """Retract every visible message of a room (moderators' "clear chat"); returns how many.

    Viewers get a chat.delete for each of the newest `announce_up_to`: what
    screens and the hubs' join history can hold. Older ones just leave history.
    """
    visible = ChatMessage.objects.filter(room_id=room_id, deleted_at__isnull=True)
    newest = list(visible.order_by("-id").values_list("pk", flat=True)[:announce_up_to])
    liked = list(visible.filter(like_count__gt=0, stream__isnull=False).values_list("stream", "pk"))
    cleared = visible.update(deleted_at=timezone.now())
    for message_id in newest:
        publish_on_commit(room_id, events.chat_delete(message_id))

    def forget_top_comments() -> None:
        from chat import top

        for stream_id, message_id in liked:
            top.forget(stream_id, message_id)

    if liked:
        after_commit(forget_top_comments, "top_comments")
    return cleared


def set_slow_mode(room: Room, seconds: int) -> RoomChatSettings:
    """Store the room's slow mode and tell every viewer.

    Who may change it and the allowed range are checked once, by
    `moderation.services.set_slow_mode`, which every moderator's tool calls; senders
    meet it in `check_send_rate`.
    """
    chat_settings, _ = RoomChatSettings.objects.update_or_create(
        room=room, defaults={"slow_mode_seconds": seconds}
    )
    publish_on_commit(room.pk, events.slow_mode(seconds))
    return chat_settings
