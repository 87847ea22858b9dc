"""Builders of the events moderation sends (their shapes are in docs/protocol.md).

`_disconnect` is a control event: the room hub of every web process closes the
user's sockets with the code and never forwards the event to a viewer.
"""

from realtime import control


def disconnect(user_id: int, code: int = control.CLOSE_BANNED) -> dict:
    return control.disconnect(user_id, code)


def followers_only(on: bool) -> dict:
    """To the whole room: followers-only mode changed."""
    return {"type": "chat.followers_only", "on": on}


def held_outcome(item, outcome: str) -> dict:
    """To the sender only (their directory socket, on any page): what became of their
    held message: `approved` (now shown), `removed`, or `expired` (nobody reviewed it in
    time, so it was dropped)."""
    return {
        "type": "moderation.held",
        "room": item.room.slug,
        "message_id": str(item.message_id),
        "outcome": outcome,
    }


def queue_changed(room_slug: str) -> dict:
    """To the room's moderators and owner (their directory sockets): its queue changed."""
    return {"type": "moderation.queue", "room": room_slug}


def moderation_done(action: str, **fields) -> dict:
    """To the moderator's own socket only: their in-room action took effect."""
    return {"type": "mod.done", "action": action, **fields}
