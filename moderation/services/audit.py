"""The audit log: every moderation action, written in the action's own transaction."""

from moderation.models import AuditEntry


def _pk(instance_or_id):
    return getattr(instance_or_id, "pk", instance_or_id)


def record(
    actor,
    action: str,
    *,
    room=None,
    target_user=None,
    message_id: int | None = None,
    review_item=None,
    reason: str = "",
    **details,
) -> AuditEntry:
    """Write one entry. `room`, `target_user` and `review_item` are instances or ids;
    `actor` None means the automatic filter or scoring."""
    signed_in = actor is not None and actor.is_authenticated
    return AuditEntry.objects.create(
        actor=actor if signed_in else None,
        action=action,
        room_id=_pk(room),
        target_user_id=_pk(target_user),
        message_id=message_id,
        review_item_id=_pk(review_item),
        reason=(reason or "")[:500],
        details=details,
    )
