"""What a chat message passes before it is stored: moderation's gate, registered in
ModerationConfig.ready(), so chat imports nothing of moderation.

The screen decides; chat acts on the decision. A screen has these calls:

- `await screen_message(session, text) -> Decision`: what becomes of the message.
  It raises a `realtime.errors.DomainError` only for the sender's right to chat
  (banned, timed out, followers-only), never for the message's content.
- `await message_saved(session, message, decision)`: after the message is stored
  (a held one goes to review, any other to delayed scoring).
- `held_decision(message_id) -> Decision | None`: the hold a resend of a held
  message's nonce answers with, or None when it is no longer held for review.
- `await check_not_restricted(session)`: likes, which skip the rest.
- `is_restricted(user_id, room_id) -> bool`: the greeting's `can_chat`.

Until one is registered, every message goes through as it was written.
"""

from dataclasses import dataclass

ALLOW = "allow"  # store and show as written
MASK = "mask"  # store and show `text`, with the masked words starred
HOLD = "hold"  # store hidden until a moderator approves; only the sender hears of it
BLOCK = "block"  # store nothing; the sender reads `message`


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    text: str  # what to store and show (ALLOW, MASK, HOLD)
    message: str = ""  # what the sender reads (HOLD, BLOCK)
    reasons: tuple[dict, ...] = ()  # {code, action, message, spans}: where, never which term

    @property
    def stored(self) -> bool:
        return self.action != BLOCK

    @property
    def hidden(self) -> bool:
        return self.action == HOLD


class NoScreen:
    async def screen_message(self, session, text: str) -> Decision:
        return Decision(ALLOW, text)

    async def message_saved(self, session, message, decision: Decision) -> None:
        return None

    def held_decision(self, message_id: int) -> Decision | None:
        return None

    async def check_not_restricted(self, session) -> None:
        return None

    def is_restricted(self, user_id: int, room_id: int) -> bool:
        return False


_screen = NoScreen()


def register_screen(screen) -> None:
    global _screen
    _screen = screen


def screen():
    return _screen
