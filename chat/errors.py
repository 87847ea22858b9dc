"""Domain errors of chat; the socket turns each into an `error {code, message}` frame."""


class ChatError(Exception):
    code = "chat_error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotSignedIn(ChatError):
    code = "not_signed_in"


class NotAllowed(ChatError):
    code = "not_allowed"


class InvalidMessage(ChatError):
    code = "invalid_message"


class RateLimited(ChatError):
    code = "rate_limited"


class SlowMode(ChatError):
    code = "slow_mode"


class NotSaved(ChatError):
    """The database did not take the message; the client may send it again."""

    code = "not_saved"


class UnknownMessage(ChatError):
    code = "unknown_message"


class DuplicateMessage(ChatError):
    """The sender sent this nonce before (a resend after a reconnect): answer, don't repeat."""

    code = "duplicate_message"

    def __init__(self, original_id: int):
        super().__init__("This message was sent already.", original_id=original_id)
        self.original_id = original_id


class MessagePending(ChatError):
    """A resent nonce whose first send is not stored yet: send it again after `retry_after`."""

    code = "message_pending"


class ResumeLimited(ChatError):
    """Too many `resume` frames on one socket: each can cost a database read."""

    code = "resume_rate_limited"


class SignInToResume(ChatError):
    """History older than what the room holds in memory is for signed-in users only."""

    code = "sign_in_required"


class MessageHeld(ChatError):
    """Not a failure: the message is stored, hidden until a moderator approves it
    (raised by the registered screen, chat/screening.py)."""

    code = "message_held"
