"""Domain errors of moderation actions; each adapter turns them into its own answer.

Every error has a stable `code` and a `message` a person can read: the socket
sends them as an `error` frame, the REST API as the body of a 4xx, admin as a
message at the top of the page.
"""


class ModerationError(Exception):
    code = "moderation_error"
    status = 400

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotAllowed(ModerationError):
    code = "not_allowed"
    status = 403


class UnknownTarget(ModerationError):
    code = "unknown_target"
    status = 404


class InvalidAction(ModerationError):
    code = "invalid_action"


class InvalidReport(ModerationError):
    code = "invalid_report"


class TooManyReports(ModerationError):
    code = "too_many_reports"
    status = 429


class Restricted(ModerationError):
    """The user is banned or timed out where they tried to act (gifts raise their own from it)."""

    code = "restricted"
    status = 403
