"""Viewers reporting a message, a user or a room.

A report joins the target's open review item (one item per target, however
many viewers report it); a viewer's second report of the same item is not
counted again. Reports are rate-limited per reporter on the shared cache, so
every web process counts together. Reporting a live room keeps a still of the
stream for the reviewer (moderation.tasks.keep_stream_snapshot).
"""

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts import permissions
from accounts.models import User
from chat.models import ChatMessage
from infra import ratelimit
from infra.after_commit import after_commit
from moderation import conf
from moderation.errors import InvalidReport, NotAllowed, TooManyReports, UnknownTarget
from moderation.models import Report, ReviewItem
from moderation.services import room_queue
from moderation.services.audit import record
from moderation.services.review import message_key, open_item, room_key, user_key
from rooms.models import Room

RATE_SCOPE = "moderation-reports"
KINDS = ("message", "user", "room")


def _as_id(value, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidReport(f"A {what} id is a number.")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise InvalidReport(f"A {what} id is a number.")
    return value


def _room(value) -> Room:
    if isinstance(value, Room):
        return value
    rooms = Room.objects.all()
    room = (
        rooms.filter(slug=value).first()
        if isinstance(value, str) and not value.isdigit()
        else rooms.filter(pk=_as_id(value, "room")).first()
    )
    if room is None:
        raise UnknownTarget("There is no such room.")
    return room


def _target(reporter, kind: str, target, room) -> tuple[str, dict]:
    """The review item key and fields of what is reported."""
    if kind == "message":
        message = ChatMessage.objects.filter(pk=_as_id(target, "message")).first()
        if message is None or message.deleted_at is not None:
            raise UnknownTarget("That message is gone.")
        if message.user_id == reporter.pk:
            raise InvalidReport("You cannot report your own message.")
        fields = {"room_id": message.room_id, "user_id": message.user_id, "message": message}
        return message_key(message.pk), fields
    if kind == "user":
        user = User.objects.filter(pk=_as_id(target, "user"), is_active=True).first()
        if user is None:
            raise UnknownTarget("There is no such user.")
        if user.pk == reporter.pk:
            raise InvalidReport("You cannot report yourself.")
        room = _room(room) if room is not None else None
        return user_key(user.pk, room and room.pk), {"room": room, "user": user}
    if kind == "room":
        room = _room(target)
        return room_key(room.pk), {"room": room, "user_id": room.owner_id}
    raise InvalidReport(f"You can report a {', a '.join(KINDS[:-1])} or a {KINDS[-1]}.")


def _check_rate(reporter) -> None:
    if ratelimit.exceeded(RATE_SCOPE, str(reporter.pk), conf.report_limit()):
        raise TooManyReports("You have sent many reports; try again in a few minutes.")


def file_report(reporter, kind: str, target, reason: str, details: str = "", room=None):
    """Report `target` (a message id, a user id, or a room slug or id); returns (report, created).

    `room` optionally names where a reported user misbehaved. `created` is False
    when this reporter had already reported the same open item.
    """
    if not permissions.is_signed_in(reporter):
        raise NotAllowed("Log in to report.")
    if reason not in Report.Reason.values:
        raise InvalidReport(f"Choose a reason: {', '.join(Report.Reason.values)}.")
    if not isinstance(details, str) or len(details) > 500:
        raise InvalidReport("Details are text of at most 500 characters.")
    _check_rate(reporter)
    key, fields = _target(reporter, kind, target, room)
    report, created = _store(reporter, key, kind, fields, reason, details.strip())
    if created:
        ratelimit.hit(RATE_SCOPE, str(reporter.pk), conf.report_window_seconds())
    return report, created


@transaction.atomic
def _store(reporter, key: str, kind: str, fields: dict, reason: str, details: str):
    item, _ = open_item(key, kind=kind, source=ReviewItem.Source.REPORTED, reason=reason, **fields)
    try:
        with transaction.atomic():
            report = Report.objects.create(
                review_item=item, reporter=reporter, reason=reason, details=details
            )
    except IntegrityError:
        return Report.objects.get(review_item=item, reporter=reporter), False
    ReviewItem.objects.filter(pk=item.pk).update(report_count=F("report_count") + 1)
    room_queue.queue_changed_on_commit(item.room_id)
    record(
        reporter,
        "report",
        room=item.room_id,
        target_user=item.user_id,
        message_id=item.message_id,
        review_item=item,
        reason=reason,
    )
    if kind == "room":
        _keep_snapshot_on_commit(item)
    return report, True


def _keep_snapshot_on_commit(item: ReviewItem) -> None:
    from moderation import tasks

    room = Room.objects.get(pk=item.room_id)
    if room.is_live:
        item_id = item.pk
        after_commit(lambda: tasks.keep_stream_snapshot.delay(item_id), "snapshot_task")
