from realtime.errors import DomainError


class NotificationError(DomainError):
    """Base of the notifications app's domain errors."""

    code = "notification_error"


class BadUnsubscribeLink(NotificationError):
    """The unsubscribe link was altered, truncated or made for another site."""

    code = "bad_unsubscribe_link"
