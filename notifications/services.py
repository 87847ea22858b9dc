"""Notification actions: the go-live fan-out, the bell's count, reading, email choices.

A room going live (rooms.signals.stream_started, connected in apps.py) queues
`tasks.plan_go_live`; it checks the room did not just flap and splits the room's
notified followers into batches of NOTIFICATIONS_BATCH_SIZE, each delivered by its
own `tasks.deliver_go_live` on whichever worker takes it. A batch is one multi-row
INSERT (ignoring rows that exist, so a repeated task notifies nobody twice), one
query for the batch's unread counts, and one `notifications.unread` frame per
follower through the directory socket's personal groups (rooms.directory_feed).
Emails go out in a task of their own per batch, so a slow mail server delays no bell.
"""

import logging

from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts import permissions
from infra.after_commit import after_commit
from notifications import conf, events
from notifications.errors import BadUnsubscribeLink
from notifications.models import EmailChoice, Notification
from rooms import directory_feed
from rooms import services as rooms
from rooms.models import Stream

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications.unsubscribe.go-live"
PAGE_SIZE = 50


def plan_go_live(stream_id: int) -> list[list[int]]:
    """The batches of follower ids to notify that the stream's room went live; none
    when the stream already ended or the room flapped (another stream of it ended
    less than NOTIFICATIONS_FLAP_MINUTES before this one began)."""
    stream = Stream.objects.filter(pk=stream_id).first()
    if stream is None or not stream.is_live:
        return []
    if rooms.ended_recently(stream, conf.flap_minutes()):
        log.info(
            "room %s flapped: no go-live notifications for stream %s", stream.room_id, stream_id
        )
        return []
    followers = rooms.notified_follower_ids(stream.room_id)
    size = conf.batch_size()
    return [followers[start : start + size] for start in range(0, len(followers), size)]


def deliver_go_live(stream_id: int, user_ids: list[int]) -> list[int]:
    """Notify these followers that the stream's room went live; update their bells.
    Returns the ids of those who asked for go-live emails."""
    stream = Stream.objects.select_related("room__owner").filter(pk=stream_id).first()
    if stream is None or not user_ids:
        return []
    room = stream.room
    Notification.objects.bulk_create(
        [Notification(user_id=uid, room=room, stream=stream) for uid in user_ids],
        ignore_conflicts=True,
        batch_size=len(user_ids),
    )
    counts = unread_counts(user_ids)
    latest = events.go_live(room)
    directory_feed.send_to_users(
        {uid: events.unread(counts.get(uid, 0), latest) for uid in user_ids}
    )
    return list(
        EmailChoice.objects.filter(user_id__in=user_ids, go_live=True).values_list(
            "user_id", flat=True
        )
    )


def send_go_live_emails(stream_id: int, user_ids: list[int]) -> int:
    """One email per follower who asked for them and has not had this stream's yet."""
    due = list(
        Notification.objects.select_related("user", "room__owner").filter(
            stream_id=stream_id,
            kind=Notification.Kind.GO_LIVE,
            user_id__in=user_ids,
            emailed_at=None,
            user__is_active=True,
            user__email_choice__go_live=True,
        )
    )
    messages = [go_live_email(n) for n in due if n.user.email]
    if messages:
        with get_connection() as connection:
            connection.send_messages(messages)
    Notification.objects.filter(pk__in=[n.pk for n in due]).update(emailed_at=timezone.now())
    return len(messages)


def go_live_email(notification: Notification) -> EmailMessage:
    room, user = notification.room, notification.user
    unsubscribe = conf.site_url() + reverse(
        "notifications:unsubscribe", args=[unsubscribe_token(user.pk)]
    )
    context = {
        "room": room,
        "user": user,
        "room_url": conf.site_url() + room.get_absolute_url(),
        "unsubscribe_url": unsubscribe,
        "SITE_NAME": conf.site_name(),
    }
    return EmailMessage(
        subject=f"{room.owner.public_name} is live: {room.title}"[:200],
        body=render_to_string("notifications/email/go_live.txt", context),
        to=[user.email],
        # RFC 8058: mail clients offer their own one-click unsubscribe, a POST to the link.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at=None).count()


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(user_id__in=user_ids, read_at=None)
        .values("user_id")
        .annotate(unread=Count("id"))
        .values_list("user_id", "unread")
    )
    return dict(rows)


def recent_notifications(user, limit: int = PAGE_SIZE) -> list[Notification]:
    rows = Notification.objects.filter(user_id=user.pk).select_related("room__owner")
    return list(rows.order_by("-created_at", "-pk")[:limit])


def mark_all_read(user) -> int:
    """Every unread notification of `user` read now; their other tabs' bells drop to 0."""
    with transaction.atomic():
        marked = Notification.objects.filter(user_id=user.pk, read_at=None).update(
            read_at=timezone.now()
        )
        if marked:
            frame = {user.pk: events.unread(0)}
            after_commit(lambda: directory_feed.send_to_users(frame), "notifications_unread")
    return marked


def wants_go_live_emails(user) -> bool:
    return EmailChoice.objects.filter(user_id=user.pk, go_live=True).exists()


def set_go_live_emails(user_id: int, on: bool) -> None:
    EmailChoice.objects.update_or_create(user_id=user_id, defaults={"go_live": on})


def set_room_notifications(user, room, notify: str) -> bool:
    """The follower's choice for one room (all, none); False when not following it."""
    if not permissions.is_signed_in(user):
        return False
    return rooms.set_follow_notifications(user.pk, room.pk, notify)


def unsubscribe_token(user_id: int) -> str:
    """A link that turns go-live emails off for `user_id` without signing in. It does
    not expire: an old email's link must still work."""
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT, compress=True)


def user_of_unsubscribe_token(token: str) -> int:
    try:
        user_id = signing.loads(token[:200], salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise BadUnsubscribeLink("This unsubscribe link is not valid.") from None
    if not isinstance(user_id, int):
        raise BadUnsubscribeLink("This unsubscribe link is not valid.")
    return user_id


def unsubscribe(token: str) -> int:
    """Go-live emails off for the link's user; returns the user's id."""
    user_id = user_of_unsubscribe_token(token)
    set_go_live_emails(user_id, False)
    return user_id
