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
