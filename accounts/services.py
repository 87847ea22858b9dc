"""Account actions: sign-up, profile changes, becoming a broadcaster, log-in throttling.

Views, the REST API, admin actions and management commands call these; none
of them writes a user by itself.
"""

import hashlib
import time

from django.contrib.auth import authenticate
from django.db import transaction

from accounts import conf, permissions
from accounts.errors import NotAllowed, TooManyAttempts
from accounts.models import User
from infra import ratelimit
from realtime import control
from realtime.publish import publish_to_user_on_commit

LOGIN_SCOPE_ACCOUNT = "login-account"
LOGIN_SCOPE_OPENING = "login-opening"
LOGIN_SCOPE_CLAIM = "login-claim"
LOGIN_SCOPE_ADDRESS = "login-address"
SIGNUP_SCOPE = "signups"


def _account_identity(username: str) -> str:
    # One count per account, whatever address the attempts claim to come from. Hashed so
    # that user names typed into the form never land in cache keys verbatim.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _memory_seconds() -> int:
    # Failures are forgotten after this long without a new one; it outlives the longest
    # delay, so waiting out a delay never also wipes the count.
    return conf.login_failure_window() + conf.login_delay_max_seconds()


def login_delay_seconds(failures: int) -> int:
    """How long the account waits after `failures` failed attempts in a row.

    Nothing up to LOGIN_FAILURE_LIMIT - 1 failures; then LOGIN_DELAY_SECONDS, doubling
    with each further failure up to LOGIN_DELAY_MAX_SECONDS. Never a permanent lock:
    an attacker can slow an account's log-in down, not shut its owner out.
    """
    beyond = failures - conf.login_failure_limit()
    if beyond < 0:
        return 0
    delay = conf.login_delay_seconds() * 2 ** min(beyond, 30)
    return min(delay, conf.login_delay_max_seconds())


def _begin_login_attempt(account: str, address: str) -> tuple[int, str]:
    """Count the attempt before checking the password, or raise TooManyAttempts.

    Counting first (an atomic increment) is what stops parallel attempts: each one
    sees the count including all those still in flight, so no more than the limit
    ever reach the password check at once. Past the limit, one attempt per delay
    claims the opening (an atomic add); the rest are refused and taken back.
    Returns the count and the claim taken ("" within the limit).
    """
    window = conf.login_failure_window()
    by_address = ratelimit.hit(LOGIN_SCOPE_ADDRESS, address, window)
    if by_address > conf.login_failure_limit_per_address():
        ratelimit.release(LOGIN_SCOPE_ADDRESS, address)
        raise TooManyAttempts(window)
    attempts = ratelimit.hit(LOGIN_SCOPE_ACCOUNT, account, _memory_seconds())
    if attempts <= conf.login_failure_limit():
        return attempts, ""
    now = time.time()
    opening = ratelimit.recall(LOGIN_SCOPE_OPENING, account)
    claim = f"{account}:{opening}"
    if (
        opening is not None
        and now >= opening
        and ratelimit.claim(LOGIN_SCOPE_CLAIM, claim, _memory_seconds())
    ):
        return attempts, claim
    ratelimit.release(LOGIN_SCOPE_ACCOUNT, account)
    ratelimit.release(LOGIN_SCOPE_ADDRESS, address)
    if opening is None:
        # Earlier attempts are still being checked; their failures will set the real
        # opening. Set one now too (only if none), so a count whose attempts never
        # finished cannot refuse the account until the count expires.
        opening = now + login_delay_seconds(conf.login_failure_limit())
        ratelimit.remember_once(LOGIN_SCOPE_OPENING, account, opening, _memory_seconds())
    raise TooManyAttempts(max(1, round(opening - now)))


def _abandon_login_attempt(account: str, address: str, claim: str) -> None:
    """The password check itself failed (database down): the attempt does not count."""
    ratelimit.release(LOGIN_SCOPE_ACCOUNT, account)
    ratelimit.release(LOGIN_SCOPE_ADDRESS, address)
    if claim:
        ratelimit.reset(LOGIN_SCOPE_CLAIM, claim)


def _record_login_failure(account: str, attempts: int) -> None:
    ratelimit.extend(LOGIN_SCOPE_ACCOUNT, account, _memory_seconds())
    delay = login_delay_seconds(attempts)
    if delay:
        ratelimit.remember(LOGIN_SCOPE_OPENING, account, time.time() + delay, _memory_seconds())


def _clear_login_failures(account: str, address: str) -> None:
    ratelimit.reset(LOGIN_SCOPE_ACCOUNT, account)
    ratelimit.reset(LOGIN_SCOPE_OPENING, account)
    ratelimit.release(LOGIN_SCOPE_ADDRESS, address)  # the address limit counts failures


def log_in(request, username: str, password: str, address: str) -> User | None:
    """The user these credentials name, or None; throttled per account and per address.

    Every log-in (the site's form, /admin/login/, /api/token/) comes through here.
    The same None is returned for an unknown name and a wrong password, so a
    caller cannot tell which field was wrong; unknown names are throttled alike.
    """
    account = _account_identity(username)
    attempts, claim = _begin_login_attempt(account, address)
    try:
        user = authenticate(request, username=username, password=password)
    except BaseException:
        _abandon_login_attempt(account, address, claim)
        raise
    if user is None:
        _record_login_failure(account, attempts)
        return None
    _clear_login_failures(account, address)
    return user


@transaction.atomic
def sign_up(username: str, email: str, password: str, address: str = "") -> User:
    """Create a viewer account. Callers validate the form first (name taken, e-mail)."""
    # Counted before the check (atomic), so parallel sign-ups cannot all slip under the limit.
    if address and ratelimit.hit(SIGNUP_SCOPE, address, conf.signup_window()) > (
        conf.signup_limit_per_address()
    ):
        raise TooManyAttempts(conf.signup_window())
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
    if password_changed or deactivated:
        revoke_api_tokens(user)
    if password_changed or deactivated or lost_staff:
        publish_to_user_on_commit(control.rights_changed(user.pk))


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
