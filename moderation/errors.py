"""Domain errors of moderation actions; each adapter turns them into its own answer.

Every error has a stable `code` and a `message` a person can read: the socket
sends them as an `error` frame, the REST API as the body of a 4xx, admin as a
message at the top of the page.
"""


from realtime.errors import DomainError


class ModerationError(DomainError):
    code = "moderation_error"


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
    """The user is banned or timed out where they tried to act: chat, likes, gifts, clips.

    The one error for it, whichever app refuses; `kind` (ban, timeout, site_ban) and,
    for a timeout, `retry_after` are in its details when the gate raises it."""

    code = "restricted"
    status = 403


class FollowersOnly(ModerationError):
    code = "followers_only"
    status = 403
