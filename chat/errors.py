"""Domain errors of chat; the socket turns each into an `error {code, message}` frame."""

from realtime.errors import DomainError


class ChatError(DomainError):
    code = "chat_error"


class NotSignedIn(ChatError):
    code = "not_signed_in"
    status = 401


class NotAllowed(ChatError):
    code = "not_allowed"
    status = 403


class InvalidMessage(ChatError):
    code = "invalid_message"


class RateLimited(ChatError):
    code = "rate_limited"
    status = 429


class SlowMode(ChatError):
    code = "slow_mode"
    status = 429


class NotSaved(ChatError):
    """The database did not take the message; the client may send it again."""

    code = "not_saved"


class UnknownMessage(ChatError):
    code = "unknown_message"
    status = 404


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


class MessageBlocked(ChatError):
    """The screen decided the message may not be sent (a blocked term); `reasons` say where."""

    code = "message_blocked"
