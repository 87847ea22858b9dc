"""The moderation gate chat passes on the hot path: restrictions, followers-only, the filter.

This module is the screen chat.services asks (registered in ModerationConfig.ready(),
chat/screening.py): `screen_message` decides what becomes of a message before it is
stored (allow, mask, hold or block: a decision, not an error), `message_saved` queues
it for review or scoring after, and `check_not_restricted` serves likes. Cost per
message: one Redis round trip (moderation.enforcement: four keys in one MGET, which
also carries the room's rules token) and the room's compiled filter, held in this
process (moderation.room_rules). The database is touched only when something changed:
a room's restrictions were never loaded or Redis lost them, the room's rules changed,
or a followers-only room meets a sender we have not seen follow yet.

Only a sender who may not chat here is refused with an error (moderation.errors:
Restricted, FollowersOnly), which the socket answers as an `error` frame.
"""

import asyncio
import time
import weakref

from channels.db import database_sync_to_async

from chat.screening import ALLOW, BLOCK, HOLD, MASK, Decision
from moderation import conf, enforcement, room_rules
from moderation.errors import FollowersOnly
from moderation.filtering import Verdict
from moderation.filtering import rules as filter_rules

FOLLOW_MEMORY_SECONDS = 300
FOLLOW_MEMORY_SIZE = 100_000
# The filter's actions as the screen's decisions (chat/screening.py).
_DECISIONS = {
    filter_rules.BLOCK: BLOCK,
    filter_rules.HOLD: HOLD,
    filter_rules.MASK: MASK,
}


def _reasons(verdict: Verdict) -> tuple[dict, ...]:
    return tuple(
        {
            "code": reason.code,
            "action": reason.action,
            "message": reason.message,
            "spans": [list(span) for span in reason.spans],
        }
        for reason in verdict.reasons
    )


async def _lookup(room_id: int, user_id: int) -> enforcement.Lookup:
    found = await enforcement.alookup(room_id, user_id)
    if found.room_token is None or found.site_token is None:
        from moderation.services import reload_state

        found = await database_sync_to_async(reload_state)(room_id, user_id)
    return found


def _raise_if_restricted(found: enforcement.Lookup) -> None:
    if found.restriction is not None:
        from moderation.services.restrictions import refusal_for

        raise refusal_for(found.restriction)


async def check_not_restricted(session) -> None:
    """Likes: refuse a banned or timed-out user (one Redis round trip)."""
    _raise_if_restricted(await _lookup(session.room_id, session.user_id))


def is_restricted(user_id: int, room_id: int) -> bool:
    """Banned or timed out in the room (or banned from the site): the greeting's can_chat."""
    from moderation.services import is_restricted as restricted

    return restricted(user_id, room_id)


async def _rules(room_id: int, found: enforcement.Lookup) -> room_rules.CompiledRules:
    rules = room_rules.cached(room_id, found.room_token, found.site_token)
    if rules is None:
        rules = await database_sync_to_async(room_rules.load)(
            room_id, found.room_token, found.site_token
        )
    return rules


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


def decide(verdict: Verdict) -> Decision:
    """The filter's verdict as the screen's decision."""
    action = _DECISIONS.get(verdict.action, ALLOW)
    if action == ALLOW:
        return Decision(ALLOW, verdict.text)
    reasons = _reasons(verdict)
    return Decision(action, verdict.text, verdict.reasons[0].message, reasons)


async def screen_message(session, text: str) -> Decision:
    """Refuse a restricted sender (Restricted, FollowersOnly), then decide what becomes of
    `text`: the room's filter, unless the sender moderates the room and skips it."""
    found = await _lookup(session.room_id, session.user_id)
    _raise_if_restricted(found)
    rules = await _rules(session.room_id, found)
    if rules.followers_only and not session.can_moderate:
        await _check_follows(session)
    if session.can_moderate and conf.moderators_bypass_filter():
        return Decision(ALLOW, text)
    return decide(rules.chat_filter.check(text))


async def message_saved(session, message, decision: Decision) -> None:
    """After the message is stored: a held one goes to review; any other is queued for
    scoring."""
    if decision.action == HOLD:
        from moderation.services import hold_message

        await database_sync_to_async(hold_message)(
            message.id, session.room_id, session.user_id, list(decision.reasons)
        )
    elif conf.scoring_enabled():
        scoring_queue().add(message.id)


def held_decision(message_id: int) -> Decision | None:
    """The hold a resend of a held message's nonce answers with, or None if it is not held
    (approved, removed or expired since)."""
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
    reasons = tuple(item.reasons)
    message = reasons[0]["message"] if reasons else "A moderator will review your message."
    return Decision(HOLD, "", message, reasons)


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
