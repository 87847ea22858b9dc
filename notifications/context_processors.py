"""The header's bell: the signed-in user's unread count on every page (one indexed count)."""

from accounts import permissions
from notifications import services


def unread_notifications(request):
    user = getattr(request, "user", None)
    if not permissions.is_signed_in(user):
        return {}
    return {"unread_notifications": services.unread_count(user.pk)}
