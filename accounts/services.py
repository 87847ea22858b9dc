"""Account actions: sign-up, profile changes, becoming a broadcaster, log-in throttling.

Views, the REST API, admin actions and management commands call these; none
of them writes a user by itself.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction

from accounts import permissions
from accounts.errors import NotAllowed, TooManyAttempts
from accounts.models import User
from livesite import ratelimit

LOGIN_SCOPE_USER = "login-failures"
LOGIN_SCOPE_ADDRESS = "login-failures-address"
SIGNUP_SCOPE = "signups"


def _login_identity(username: str, address: str) -> str:
    # Hash so that user names typed into the form never land in cache keys verbatim.
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"{digest}:{address}"


def check_login_allowed(username: str, address: str) -> None:
    """Raise TooManyAttempts once this name or address has failed too often."""
    if ratelimit.exceeded(
        LOGIN_SCOPE_USER, _login_identity(username, address), settings.LOGIN_FAILURE_LIMIT
    ) or ratelimit.exceeded(LOGIN_SCOPE_ADDRESS, address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        raise TooManyAttempts(settings.LOGIN_FAILURE_WINDOW)


def record_login_failure(username: str, address: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW
    ratelimit.hit(LOGIN_SCOPE_USER, _login_identity(username, address), window)
    ratelimit.hit(LOGIN_SCOPE_ADDRESS, address, window)


def clear_login_failures(username: str, address: str) -> None:
    ratelimit.reset(LOGIN_SCOPE_USER, _login_identity(username, address))


def log_in(request, username: str, password: str, address: str) -> User | None:
    """The user these credentials name, or None; throttled per name and address.

    The same None is returned for an unknown name and a wrong password, so a
    caller cannot tell which field was wrong.
    """
    check_login_allowed(username, address)
    user = authenticate(request, username=username, password=password)
    if user is None:
        record_login_failure(username, address)
        return None
    clear_login_failures(username, address)
    return user


def check_signup_allowed(address: str) -> None:
    if ratelimit.exceeded(SIGNUP_SCOPE, address, settings.SIGNUP_LIMIT_PER_ADDRESS):
        raise TooManyAttempts(settings.SIGNUP_WINDOW)


@transaction.atomic
def sign_up(username: str, email: str, password: str, address: str = "") -> User:
    """Create a viewer account. Callers validate the form first (name taken, e-mail)."""
    if address:
        check_signup_allowed(address)
        ratelimit.hit(SIGNUP_SCOPE, address, settings.SIGNUP_WINDOW)
    return User.objects.create_user(username=username, email=email, password=password)


def update_profile(
    user: User, *, display_name: str, bio: str, avatar=None, clear_avatar: bool = False
) -> User:
    user.display_name = display_name.strip()
    user.bio = bio.strip()
    fields = ["display_name", "bio"]
    if clear_avatar and user.avatar:
        user.avatar.delete(save=False)
        user.avatar = ""
        fields.append("avatar")
    elif avatar is not None:
        user.avatar = avatar
        fields.append("avatar")
    user.save(update_fields=fields)
    return user


def enable_broadcasting(user: User) -> User:
    """Anyone may stream, as on Twitch, unless staff took it away (then only staff can
    give it back: restore_broadcasting)."""
    if user.broadcasting_revoked_by_staff:
        raise NotAllowed(_revoked_message(user))
    if not user.is_broadcaster:
        user.is_broadcaster = True
        user.save(update_fields=["is_broadcaster"])
    return user


def disable_broadcasting(user: User) -> User:
    """The user gives broadcasting up themselves; they may turn it back on."""
    if user.is_broadcaster:
        user.is_broadcaster = False
        user.save(update_fields=["is_broadcaster"])
    return user


def revoke_api_tokens(user: User) -> int:
    """Blacklist every refresh token the user holds (apps must sign in again); how many."""
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    return len(BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in live]))


def access_changed(user: User, *, password_changed: bool, deactivated: bool, lost_staff: bool):
    """The user's password changed, or they lost their account or staff rights: tokens
    issued before die, and open sockets close (code 4401) to come back with what the
    user may do now. Called by accounts.signals after any save of the user."""
    from chat import events
    from chat.broadcast import publish_to_user_on_commit

    if password_changed or deactivated:
        revoke_api_tokens(user)
    if password_changed or deactivated or lost_staff:
        publish_to_user_on_commit(events.rights_changed(user.pk))


def revoke_broadcasting(by, user: User, reason: str = "") -> User:
    """Staff take broadcasting away. The owner cannot turn it back on, and the ingest
    drops their live stream within INGEST_KEY_CHECK_MS (rooms.services.may_publish)."""
    if not permissions.is_staff(by):
        raise NotAllowed("Only staff may take broadcasting away.")
    user.is_broadcaster = False
    user.broadcasting_revoked_by_staff = True
    user.broadcasting_revoked_reason = reason.strip()[:500]
    user.save(
        update_fields=[
            "is_broadcaster",
            "broadcasting_revoked_by_staff",
            "broadcasting_revoked_reason",
        ]
    )
    return user


def restore_broadcasting(by, user: User) -> User:
    """Staff lift their own revocation and let the user broadcast again."""
    if not permissions.is_staff(by):
        raise NotAllowed("Only staff may give broadcasting back.")
    user.is_broadcaster = True
    user.broadcasting_revoked_by_staff = False
    user.broadcasting_revoked_reason = ""
    user.save(
        update_fields=[
            "is_broadcaster",
            "broadcasting_revoked_by_staff",
            "broadcasting_revoked_reason",
        ]
    )
    return user


def _revoked_message(user: User) -> str:
    message = "Staff took broadcasting away from this account; only staff can give it back."
    if user.broadcasting_revoked_reason:
        message += f" Reason: {user.broadcasting_revoked_reason}"
    return message
