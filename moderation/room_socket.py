"""The moderator tools on the room socket, `mod.*`: registered with chat.socket_frames in
ModerationConfig.ready(). Each frame calls one moderation service and answers `mod.done`
(to the moderator only); a refusal rises to the socket, which answers an `error` frame."""

from channels.db import database_sync_to_async

from chat.protocol import parse_message_id
from moderation import events
from moderation import services as moderation


async def _moderate(socket, action: str, service, *args, **done) -> None:
    """Run `service(user, room id, *args)`, then answer `mod.done`."""
    await database_sync_to_async(service)(socket.scope["user"], socket.session.room_id, *args)
    await socket.send_event(events.moderation_done(action, **done))


async def on_mod_delete(socket, id: str):  # the protocol's field name
    await _moderate(socket, "delete", moderation.delete_message, parse_message_id(id), id=id)


async def on_mod_timeout(socket, user_id: int, minutes: int, reason: str = ""):
    await _moderate(
        socket,
        "timeout",
        moderation.timeout_user,
        user_id,
        minutes,
        reason,
        user_id=user_id,
        minutes=minutes,
    )


async def on_mod_ban(socket, user_id: int, reason: str = ""):
    await _moderate(socket, "ban", moderation.ban_user, user_id, reason, user_id=user_id)


async def on_mod_unban(socket, user_id: int):
    await _moderate(socket, "unban", moderation.lift_restrictions, user_id, user_id=user_id)


async def on_mod_slow(socket, seconds: int):
    await _moderate(socket, "slow", moderation.set_slow_mode, seconds, seconds=seconds)


async def on_mod_clear(socket):
    await _moderate(socket, "clear", moderation.clear_chat)


async def on_mod_followers_only(socket, on: bool):
    await _moderate(socket, "followers_only", moderation.set_followers_only, on, on=on)


FRAMES = {
    "mod.delete": on_mod_delete,
    "mod.timeout": on_mod_timeout,
    "mod.ban": on_mod_ban,
    "mod.unban": on_mod_unban,
    "mod.slow": on_mod_slow,
    "mod.clear": on_mod_clear,
    "mod.followers_only": on_mod_followers_only,
}
