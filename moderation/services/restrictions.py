"""Bans and timeouts: creating and lifting them, and the checks chat, likes and gifts make.

A timeout keeps the user in the room, reading, but silent until it ends: the
per-message check (moderation.enforcement, one Redis round trip) refuses their
chat and likes at once in every process. A ban also closes the user's open
sockets in every process (the hub's `_disconnect` control event); the user may
come back to watch but never to chat, like or send gifts. A site ban does both
in every room.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from infra.after_commit import after_commit
from moderation import conf, enforcement, events, room_rules
from moderation.errors import InvalidAction, NotAllowed, Restricted
from moderation.models import Restriction
from moderation.services.audit import record
from moderation.services.targets import room_of, user_of
from realtime.publish import publish_on_commit
from rooms.models import Room


# --- the checks --------------------------------------------------------------------------
def reload_state(room_id: int, user_id: int) -> enforcement.Lookup:
    """Load the room's (and the site's) active restrictions into the cache if they are not there.

    Called when a lookup finds a marker missing: first use of a room, or Redis lost it.
    """
    found = enforcement.lookup(room_id, user_id)
    for scope, token in ((room_id, found.room_token), (None, found.site_token)):
        if token is None:
            entries = [_cache_entry(r) for r in _active_in(scope)]
            enforcement.mark_loaded(scope, entries, room_rules.rules_token(scope))
    return enforcement.lookup(room_id, user_id)


def active_restriction(user_id: int, room_id: int) -> enforcement.ActiveRestriction | None:
    """The user's ban or timeout in the room (a site ban counts everywhere), or None."""
    found = enforcement.lookup(room_id, user_id)
    if found.room_token is None or found.site_token is None:
        found = reload_state(room_id, user_id)
    return found.restriction


def refusals(pairs: list[tuple[int, int]]) -> list[Restricted | None]:
    """`check_not_restricted` for several (user id, room id): the refusal of each, or None.

    One cache round trip for all of them (gift sends are checked a batch at a time).
    """
    found = enforcement.lookup_many([(room_id, user_id) for user_id, room_id in pairs])
    answers = []
    for (user_id, room_id), lookup in zip(pairs, found, strict=True):
        restriction = lookup.restriction
        if lookup.room_token is None or lookup.site_token is None:
            restriction = reload_state(room_id, user_id).restriction
        answers.append(None if restriction is None else refusal_for(restriction))
    return answers


def refusal_for(restriction: enforcement.ActiveRestriction) -> Restricted:
    """The one refusal of a banned or timed-out user, whatever they tried (chat, likes,
    gifts): its message, `kind`, and for a timeout `retry_after` (seconds)."""
    details = {"kind": restriction.kind}
    if restriction.until is not None:
        details["retry_after"] = round(restriction.seconds_left(), 1)
    return Restricted(describe(restriction), **details)


def site_banned_owner():
    """A condition over rooms: the owner has an active site ban (rooms.services.may_publish)."""
    from django.db.models import Exists, OuterRef

    bans = Restriction.objects.active().filter(
        room__isnull=True, kind=Restriction.Kind.BAN, user_id=OuterRef("owner_id")
    )
    return Exists(bans)


def is_restricted(user_id: int, room_id: int) -> bool:
    return active_restriction(user_id, room_id) is not None


def describe(restriction: enforcement.ActiveRestriction) -> str:
    """What the restricted user reads."""
    if restriction.kind == Restriction.Kind.TIMEOUT:
        minutes = max(1, round((restriction.seconds_left() or 0) / 60))
        return f"You are timed out in this room for {minutes} more minute{'s' * (minutes != 1)}."
    if restriction.site_wide:
        return "You are banned from this site."
    return "You are banned from this room."


def check_not_restricted(user_id: int, room_id: int) -> None:
    """Raise moderation.errors.Restricted if the user is banned or timed out in the room.

    For synchronous callers that act for a user in a room: REST views, gifts. One
    cache round trip; the database only when the cache was lost.
    """
    refusal = refusals([(user_id, room_id)])[0]
    if refusal is not None:
        raise refusal


# --- creating and lifting ------------------------------------------------------------------
def _active_in(room_id: int | None):
    restrictions = Restriction.objects.active()
    if room_id is None:
        return restrictions.filter(room__isnull=True)
    return restrictions.filter(room_id=room_id)


def _cache_entry(restriction: Restriction) -> tuple[int, str, float]:
    until = restriction.expires_at.timestamp() if restriction.expires_at else None
    if until is None:  # a ban: outlives any marker now set (see moderation.enforcement)
        ttl = 2.0 * conf.state_ttl_seconds()
    else:
        ttl = max(0.001, until - timezone.now().timestamp())
    return restriction.user_id, enforcement.encode(restriction.kind, until, restriction.reason), ttl


def _enforce_on_commit(restriction: Restriction) -> None:
    user_id, value, ttl = _cache_entry(restriction)
    room_id = restriction.room_id
    after_commit(lambda: enforcement.put(room_id, user_id, value, ttl), "enforce")


def _check_may_restrict(by, room: Room, user) -> None:
    if not permissions.can_moderate_room(by, room):
        raise NotAllowed("Only the room's moderators may do this.")
    if user.pk == by.pk:
        raise InvalidAction("You cannot do this to yourself.")
    if permissions.can_manage_room(user, room):
        raise NotAllowed("The room's owner and staff cannot be timed out or banned.")
    if permissions.is_room_moderator(user, room) and not permissions.can_manage_room(by, room):
        raise NotAllowed("Only the room's owner may time out or ban a moderator.")


def _locked_active(room_id: int | None, user) -> list[Restriction]:
    return list(_active_in(room_id).filter(user=user).select_for_update())


def _lift(restrictions: list[Restriction], by) -> int:
    ids = [restriction.pk for restriction in restrictions]
    return Restriction.objects.filter(pk__in=ids).update(lifted_at=timezone.now(), lifted_by=by)


@transaction.atomic
def timeout_user(by, room, user, minutes: int, reason: str = "") -> Restriction:
    """Silence `user` in `room` for `minutes`; a new timeout replaces a running one."""
    room, user = room_of(room), user_of(user)
    _check_may_restrict(by, room, user)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidAction("A timeout is a whole number of minutes.")
    if not 1 <= minutes <= conf.max_timeout_minutes():
        raise InvalidAction(f"A timeout is 1 to {conf.max_timeout_minutes()} minutes.")
    current = _locked_active(room.pk, user)
    if any(restriction.kind == Restriction.Kind.BAN for restriction in current):
        raise InvalidAction("This user is already banned from the room.")
    _lift(current, by)
    restriction = Restriction.objects.create(
        room=room,
        user=user,
        kind=Restriction.Kind.TIMEOUT,
        reason=reason[:500],
        created_by=by,
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )
    record(by, "timeout", room=room, target_user=user, reason=reason, minutes=minutes)
    _enforce_on_commit(restriction)
    return restriction


@transaction.atomic
def ban_user(by, room, user, reason: str = "") -> Restriction:
    """Ban `user` from `room`: no chat, likes or gifts there, and their open sockets close."""
    room, user = room_of(room), user_of(user)
    _check_may_restrict(by, room, user)
    current = _locked_active(room.pk, user)
    bans = [restriction for restriction in current if restriction.kind == Restriction.Kind.BAN]
    if bans:
        return bans[0]
    _lift(current, by)
    restriction = Restriction.objects.create(
        room=room, user=user, kind=Restriction.Kind.BAN, reason=reason[:500], created_by=by
    )
    record(by, "ban", room=room, target_user=user, reason=reason)
    _enforce_on_commit(restriction)
    publish_on_commit(room.pk, events.disconnect(user.pk))
    return restriction


@transaction.atomic
def ban_from_site(by, user, reason: str = "") -> Restriction:
    """Staff only: no chat, likes or gifts in any room; live rooms drop the user's sockets."""
    user = user_of(user)
    if not permissions.is_staff(by):
        raise NotAllowed("Only staff may ban from the site.")
    if user.is_staff or user.pk == by.pk:
        raise NotAllowed("Staff cannot be banned from the site.")
    current = _locked_active(None, user)
    if current:
        return current[0]
    restriction = Restriction.objects.create(
        room=None, user=user, kind=Restriction.Kind.BAN, reason=reason[:500], created_by=by
    )
    record(by, "site_ban", target_user=user, reason=reason)
    _enforce_on_commit(restriction)
    # Sockets in rooms that are not live are few and quiet; the per-message check covers them.
    for room_id in Room.objects.filter(status=Room.Status.LIVE).values_list("pk", flat=True):
        publish_on_commit(room_id, events.disconnect(user.pk))
    return restriction


@transaction.atomic
def lift_restrictions(by, room, user, reason: str = "") -> int:
    """End the user's ban or timeout in the room early; returns how many were lifted."""
    room, user = room_of(room), user_of(user)
    if not permissions.can_moderate_room(by, room):
        raise NotAllowed("Only the room's moderators may do this.")
    lifted = _lift(_locked_active(room.pk, user), by)
    if lifted:
        record(by, "lift", room=room, target_user=user, reason=reason)
        room_id, user_id = room.pk, user.pk
        after_commit(lambda: enforcement.remove(room_id, user_id), "enforce")
    return lifted


@transaction.atomic
def lift_site_ban(by, user, reason: str = "") -> int:
    user = user_of(user)
    if not permissions.is_staff(by):
        raise NotAllowed("Only staff may lift a site ban.")
    lifted = _lift(_locked_active(None, user), by)
    if lifted:
        record(by, "lift_site_ban", target_user=user, reason=reason)
        user_id = user.pk
        after_commit(lambda: enforcement.remove(None, user_id), "enforce")
    return lifted
