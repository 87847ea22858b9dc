class NotificationError(Exception):
    """Base of the notifications app's domain errors."""


class BadUnsubscribeLink(NotificationError):
    """The unsubscribe link was altered, truncated or made for another site."""
