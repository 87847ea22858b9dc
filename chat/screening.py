"""What a chat message passes before it is stored: moderation's gate, registered in
ModerationConfig.ready(), so chat imports nothing of moderation.

A screen has the four calls chat.services makes: `screen_message(session, text)`
before a message is stored (it refuses with a ChatError, or returns what to store:
an object with `text` and `held`), `message_saved(session, message, screening,
nonce)` after (a held message raises MessageHeld), `held_again(message_id, nonce)`
for a resend of a held message's nonce, and `check_not_restricted(session)` for
likes. Until one is registered, every message goes through as it was written.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unscreened:
    text: str
    held: bool = False


class NoScreen:
    async def screen_message(self, session, text: str) -> Unscreened:
        return Unscreened(text)

    async def message_saved(self, session, message, screening, nonce) -> None:
        return None

    def held_again(self, message_id: int, nonce):
        return None

    async def check_not_restricted(self, session) -> None:
        return None


_screen = NoScreen()


def register_screen(screen) -> None:
    global _screen
    _screen = screen


def screen():
    return _screen
