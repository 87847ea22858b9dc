"""The moderation gate chat passes on the hot path: restrictions, followers-only, the filter.

This module is the screen chat.services asks (registered in ModerationConfig.ready(),
chat/screening.py): `screen_message` before it stores a message, `message_saved`
after, and `check_not_restricted` for likes. Cost per message: one Redis round
trip (moderation.enforcement: four keys in one MGET, which also carries the
room's rules token) and the room's compiled filter, held in this process
(moderation.room_rules). The database is touched only when something changed:
a room's restrictions were never loaded or Redis lost them, the room's rules
changed, or a followers-only room meets a sender we have not seen follow yet.

Every refusal is a chat error, so the socket answers with an `error` frame the
sender reads.
"""

import asyncio
import time
import weakref
from dataclasses import dataclass

from channels.db import database_sync_to_async

from accounts import permissions
from chat import errors as chat_errors
from chat.errors import ChatError
from moderation import conf, enforcement, room_rules
from moderation.filtering import Verdict
from moderation.filtering.rules import BLOCK, HOLD

FOLLOW_MEMORY_SECONDS = 300
FOLLOW_MEMORY_SIZE = 100_000


class SenderRestricted(ChatError):
    code = "restricted"


class FollowersOnly(ChatError):
    code = "followers_only"


class MessageBlocked(ChatError):
    code = "message_blocked"


# chat's, so chat.services knows a held message without importing moderation
MessageHeld = chat_errors.MessageHeld


@dataclass(frozen=True, slots=True)
class Screening:
    text: str  # what to store and broadcast (masked words starred)
    held: bool
    verdict: Verdict | None  # None when the sender skips the filter (moderators)


def _reasons(verdict: Verdict) -> list[dict]:
    return [
        {
            "code": reason.code,
            "action": reason.action,
            "message": reason.message,
            "spans": [list(span) for span in reason.spans],
        }
        for reason in verdict.reasons
    ]


async def _lookup(room_id: int, user_id: int) -> enforcement.Lookup:
    found = await enforcement.alookup(room_id, user_id)
    if found.room_token is None or found.site_token is None:
        from moderation.services import reload_state

        found = await database_sync_to_async(reload_state)(room_id, user_id)
    return found


def _raise_if_restricted(found: enforcement.Lookup) -> None:
    restriction = found.restriction
    if restriction is None:
        return
    from moderation.services.restrictions import describe

    details = {"kind": restriction.kind}
    if restriction.until is not None:
        details["retry_after"] = round(restriction.seconds_left(), 1)
    raise SenderRestricted(describe(restriction), **details)


async def check_not_restricted(session) -> None:
    """Likes: refuse a banned or timed-out user (one Redis round trip)."""
    _raise_if_restricted(await _lookup(session.room_id, session.user_id))


async def _rules(room_id: int, found: enforcement.Lookup) -> room_rules.CompiledRules:
    rules = room_rules.cached(room_id, found.room_token, found.site_token)
    if rules is None:
        rules = await database_sync_to_async(room_rules.load)(
            room_id, found.room_token, found.site_token
        )
    return rules


def _may_chat_now(user_id: int, room_id: int) -> bool:
    from accounts.models import User
    from rooms.models import Room

    user = User.objects.filter(pk=user_id).first()
    room = Room.objects.filter(pk=room_id).first()
    return bool(user and room and permissions.can_chat(user, room))


async def _refresh_can_chat(session) -> None:
    """A socket opened while its user was restricted says can_chat=False; ask again now."""
    session.can_chat = await database_sync_to_async(_may_chat_now)(session.user_id, session.room_id)


_follows_seen: dict[tuple[int, int], float] = {}


async def _check_follows(session) -> None:
    key = (session.room_id, session.user_id)
    if _follows_seen.get(key, 0.0) > time.monotonic():
        return
    from rooms.services import is_following

    if not await database_sync_to_async(is_following)(session.user_id, session.room_id):
        raise FollowersOnly("This room's chat is for followers only. Follow the room to chat.")
    if len(_follows_seen) > FOLLOW_MEMORY_SIZE:
        _follows_seen.clear()
    _follows_seen[key] = time.monotonic() + FOLLOW_MEMORY_SECONDS


def forget_follows() -> None:
    """Drop the follows this process remembers (tests, whose ids are reused)."""
    _follows_seen.clear()


async def screen_message(session, text: str) -> Screening:
    """Refuse a restricted sender, then run the room's filter over `text`.

    Raises SenderRestricted, FollowersOnly or MessageBlocked (with the reasons
    the sender reads); otherwise says what to store and whether to hold it.
    """
    found = await _lookup(session.room_id, session.user_id)
    _raise_if_restricted(found)
    if not session.can_chat:
        await _refresh_can_chat(session)
    rules = await _rules(session.room_id, found)
    if rules.followers_only and not session.can_moderate:
        await _check_follows(session)
    if session.can_moderate and conf.moderators_bypass_filter():
        return Screening(text, False, None)
    verdict = rules.chat_filter.check(text)
    if verdict.action == BLOCK:
        raise MessageBlocked(verdict.reasons[0].message, reasons=_reasons(verdict))
    return Screening(verdict.text, verdict.action == HOLD, verdict)


async def message_saved(session, message, screening: Screening, nonce: str | None) -> None:
    """After the message is stored: a held one goes to review (and the sender is told,
    by MessageHeld, which only their socket sees); any other is queued for scoring."""
    if screening.held:
        from moderation.services import hold_message

        reasons = _reasons(screening.verdict)
        await database_sync_to_async(hold_message)(
            message.id, session.room_id, session.user_id, reasons
        )
        raise MessageHeld(
            screening.verdict.reasons[0].message, id=str(message.id), nonce=nonce, reasons=reasons
        )
    if conf.scoring_enabled():
        scoring_queue().add(message.id)


def held_again(message_id: int, nonce: str | None) -> MessageHeld | None:
    """The hold a resend of a held message's nonce answers with, or None if it is not held.

    The first send keeps its nonce claim, so the resend stores nothing; the
    sender reads the same `message_held` as the first time.
    """
    from moderation.models import ReviewItem

    item = (
        ReviewItem.objects.filter(
            message_id=message_id, source=ReviewItem.Source.HELD, state=ReviewItem.State.OPEN
        )
        .only("reasons")
        .first()
    )
    if item is None:
        return None
    reasons = item.reasons
    message = reasons[0]["message"] if reasons else "A moderator will review your message."
    return MessageHeld(message, id=str(message_id), nonce=nonce, reasons=reasons)


class ScoringQueue:
    """Message ids gathered for a while, then queued as one scoring task (not one per message).

    Handing a task to the broker is blocking I/O; it happens off the event loop,
    a few times a second at most, whatever the chat's rate.
    """

    def __init__(self):
        self.pending: list[int] = []
        self.timer: asyncio.TimerHandle | None = None
        self.sending: set[asyncio.Task] = set()

    def add(self, message_id: int) -> None:
        self.pending.append(message_id)
        if len(self.pending) >= conf.scoring_batch_size():
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(
                conf.scoring_batch_seconds(), self.flush
            )

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        ids, self.pending = self.pending, []
        if not ids:
            return
        from moderation.tasks import queue_scoring

        task = asyncio.get_running_loop().create_task(database_sync_to_async(queue_scoring)(ids))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)


_queues: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ScoringQueue]" = (
    weakref.WeakKeyDictionary()
)


def scoring_queue() -> ScoringQueue:
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = ScoringQueue()
    return queue
