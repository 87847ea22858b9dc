"""Moderation actions: the only code that writes moderation's tables.

Views, the REST API, admin actions, the chat socket's moderator frames and the
Celery tasks all call these. Each action checks who may do it
(accounts.permissions), writes, records an audit entry in the same
transaction, and publishes its events only once the transaction commits.

- restrictions: bans and timeouts, and the checks chat, likes and gifts make
- room_tools: what a moderator does in the room (delete, clear, slow mode, followers-only)
- rules: blocked terms, link policy and flood limits
- reports: viewers reporting a message, a user or a room
- review: the review queue (held and flagged messages, reports) and its outcomes
- audit: the log every action above writes
"""

from moderation.services import room_queue  # noqa: F401 -- moderation.services.room_queue
from moderation.services.audit import record
from moderation.services.reports import file_report
from moderation.services.restrictions import (
    active_restriction,
    ban_from_site,
    ban_user,
    check_not_restricted,
    is_restricted,
    lift_restrictions,
    lift_site_ban,
    refusals,
    reload_state,
    timeout_user,
)
from moderation.services.review import (
    approve,
    ban_author_from_room,
    ban_author_from_site,
    delete_reviewed_message,
    end_reviewed_stream,
    expire_held_messages,
    flag_message,
    hold_message,
    keep_stream_snapshot,
    time_out_author,
)
from moderation.services.room_tools import (
    clear_chat,
    delete_message,
    set_followers_only,
    set_slow_mode,
)
from moderation.services.rules import add_blocked_term, remove_blocked_term, update_room_rules

__all__ = [
    "active_restriction",
    "add_blocked_term",
    "approve",
    "ban_author_from_room",
    "ban_author_from_site",
    "ban_from_site",
    "ban_user",
    "check_not_restricted",
    "clear_chat",
    "delete_message",
    "delete_reviewed_message",
    "end_reviewed_stream",
    "expire_held_messages",
    "file_report",
    "flag_message",
    "hold_message",
    "is_restricted",
    "keep_stream_snapshot",
    "lift_restrictions",
    "lift_site_ban",
    "record",
    "refusals",
    "reload_state",
    "remove_blocked_term",
    "set_followers_only",
    "set_slow_mode",
    "time_out_author",
    "timeout_user",
    "update_room_rules",
]
