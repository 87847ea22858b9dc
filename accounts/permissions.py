"""Who may do what to which room: the one place that answers it.

Pages, the REST API and WebSocket consumers all ask these functions (or the
DRF permission classes below, which call them); nothing else derives roles.
Functions take a user (possibly anonymous) and, where it matters, a room.
They read room moderator grants through the room's relation, so a consumer
calls them through `database_sync_to_async`.
"""

import hmac
import ipaddress

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import conf

ROLE_ANONYMOUS = "anonymous"
ROLE_VIEWER = "viewer"
ROLE_MODERATOR = "moderator"
ROLE_OWNER = "owner"
ROLE_STAFF = "staff"


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_staff(user) -> bool:
    return is_signed_in(user) and user.is_staff


def can_broadcast(user) -> bool:
    return is_signed_in(user) and user.is_broadcaster


def owns_room(user, room) -> bool:
    return is_signed_in(user) and room.owner_id == user.pk


def is_room_moderator(user, room) -> bool:
    """Granted by the room's owner; owners and staff are not listed but moderate too."""
    return is_signed_in(user) and room.moderator_grants.filter(user_id=user.pk).exists()


def can_moderate_room(user, room) -> bool:
    return is_staff(user) or owns_room(user, room) or is_room_moderator(user, room)


def can_manage_room(user, room) -> bool:
    """Edit the room, start and stop it, appoint moderators."""
    return owns_room(user, room) or is_staff(user)


def can_appoint_moderators(user, room) -> bool:
    return can_manage_room(user, room)


def can_see_stream_key(user, room) -> bool:
    """Only the owner: not staff, not moderators (a key is a password to go live)."""
    return owns_room(user, room)


def can_chat(user, room) -> bool:
    """What a user's role allows: every signed-in user may chat in any room. Whether they
    are banned or timed out there is moderation's to say (its gate refuses each message;
    chat.services asks it for the greeting's `can_chat`)."""
    return is_signed_in(user)


def rank_role(*, owner: bool, staff: bool, moderator: bool) -> str:
    """The one ranking of badges: owner, then staff, then the room's moderators."""
    if owner:
        return ROLE_OWNER
    if staff:
        return ROLE_STAFF
    if moderator:
        return ROLE_MODERATOR
    return ROLE_VIEWER


def rooms_moderated_by(user) -> set[int] | None:
    """Ids of the rooms `user` moderates (owns, or was appointed to); None for staff, who
    moderate every room. Empty for everyone else."""
    if is_staff(user):
        return None
    if not is_signed_in(user):
        return set()
    owned = user.rooms.values_list("pk", flat=True)
    appointed = user.moderator_grants.values_list("room_id", flat=True)
    return {*owned, *appointed}


def can_use_room_moderation_admin(user) -> bool:
    """The room moderation admin (/moderate/): staff, and anyone moderating a room."""
    moderated = rooms_moderated_by(user)
    return moderated is None or bool(moderated)


def role_in_room(user, room) -> str:
    """The badge a user wears in a room's chat."""
    if not is_signed_in(user):
        return ROLE_ANONYMOUS
    return rank_role(
        owner=owns_room(user, room),
        staff=user.is_staff,
        moderator=is_room_moderator(user, room),
    )


def roles_in_room(room, users) -> dict[int, str]:
    """`role_in_room` for many signed-in users at once (chat history): one query for grants."""
    users = {user.pk: user for user in users}
    moderators = set(
        room.moderator_grants.filter(user_id__in=users).values_list("user_id", flat=True)
    )
    return {
        user_id: rank_role(
            owner=user_id == room.owner_id,
            staff=user.is_staff,
            moderator=user_id in moderators,
        )
        for user_id, user in users.items()
    }


class IsBroadcaster(BasePermission):
    message = "Only broadcasters may do this. Turn on broadcasting from your dashboard."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or can_broadcast(request.user)


class CanManageRoomOrReadOnly(BasePermission):
    message = "Only the room's owner or staff may change this room."

    def has_object_permission(self, request, view, room) -> bool:
        return request.method in SAFE_METHODS or can_manage_room(request.user, room)


def may_read_operator_endpoints(address: str, bearer_token: str) -> bool:
    """/metrics and /readyz: from METRICS_ALLOWED_NETWORKS, or with METRICS_TOKEN.

    They name the services behind the site and how busy it is; a load balancer or
    Prometheus reaches them from the operator's own network or with the token.
    """
    expected = conf.metrics_token()
    if expected and bearer_token and hmac.compare_digest(bearer_token, expected):
        return True
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    if getattr(client, "ipv4_mapped", None):
        client = client.ipv4_mapped
    return any(
        client in ipaddress.ip_network(network, strict=False)
        for network in conf.metrics_allowed_networks()
    )
