"""Blocked terms, link policy, flood limits and followers-only mode, per room and site-wide.

Every change moves the room's rules token (moderation.room_rules) once the
transaction commits; each web process sees the new token with its next
per-message lookup and recompiles the room's filter then.
"""

from django.db import IntegrityError, transaction

from accounts import permissions
from infra.after_commit import after_commit
from moderation import conf, enforcement, room_rules
from moderation.errors import InvalidAction, NotAllowed
from moderation.filtering import BlockedTerm, FloodLimits, InvalidRule, LinkPolicy
from moderation.models import BlockedTermRule, RoomRules
from moderation.services.audit import record


def rules_changed_on_commit(room_id: int | None) -> None:
    after_commit(
        lambda: enforcement.change_token(room_id, room_rules.rules_token(room_id)), "enforce"
    )


def _check_may_edit(by, room) -> None:
    if room is None:
        if not permissions.is_staff(by):
            raise NotAllowed("Only staff may change the site-wide rules.")
    elif not permissions.can_moderate_room(by, room):
        raise NotAllowed("Only the room's moderators may change its rules.")


@transaction.atomic
def add_blocked_term(by, room, term: str, action: str = "block", whole_word: bool = True):
    """Block, hold or mask `term` in `room` (None: every room). Matched as text, never a pattern."""
    _check_may_edit(by, room)
    try:
        checked = BlockedTerm(
            term.strip() if isinstance(term, str) else term, action, whole_word=whole_word
        )
    except InvalidRule as error:
        raise InvalidAction(str(error)) from None
    try:
        with transaction.atomic():
            rule, _ = BlockedTermRule.objects.update_or_create(
                room=room,
                term=checked.term,
                defaults={
                    "action": checked.action,
                    "whole_word": checked.whole_word,
                    "created_by": by,
                },
            )
    except IntegrityError:
        raise InvalidAction("That term is already blocked.") from None
    record(
        by,
        "add_blocked_term",
        room=room,
        reason=checked.term,
        term_action=checked.action,
        whole_word=checked.whole_word,
    )
    rules_changed_on_commit(room.pk if room else None)
    return rule


@transaction.atomic
def remove_blocked_term(by, rule: BlockedTermRule) -> None:
    room = rule.room
    _check_may_edit(by, room)
    record(by, "remove_blocked_term", room=room, reason=rule.term)
    rule.delete()
    rules_changed_on_commit(rule.room_id)


def rules_of(room) -> RoomRules:
    """The room's rules row, created from the site defaults (moderation.conf) on first change."""
    rules = RoomRules.objects.select_for_update().filter(room=room).first()
    if rules is not None:
        return rules
    rules = RoomRules(
        room=room,
        link_mode=conf.default_link_mode(),
        allowed_domains="\n".join(conf.default_allowed_domains()),
    )
    flood = conf.default_flood_limits()
    if flood is None:
        rules.max_caps_ratio = rules.max_emoji = rules.max_repeated_chars = None
    else:
        for name, value in flood.items():
            setattr(rules, "flood_action" if name == "action" else name, value)
    return rules


ROOM_RULE_FIELDS = (
    "link_mode",
    "allowed_domains",
    "link_action",
    "max_caps_ratio",
    "min_letters_for_caps",
    "max_emoji",
    "max_repeated_chars",
    "flood_action",
)


@transaction.atomic
def update_room_rules(by, room, **changes) -> RoomRules:
    """Change the room's link policy and flood limits; invalid rules are refused whole."""
    _check_may_edit(by, room)
    unknown = set(changes) - set(ROOM_RULE_FIELDS)
    if unknown:
        raise InvalidAction(f"Unknown rule {sorted(unknown)[0]!r}.")
    rules = rules_of(room)
    for name, value in changes.items():
        setattr(rules, name, value)
    try:  # compile them now so that a bad rule fails here, not in the chat socket
        LinkPolicy(rules.link_mode, frozenset(rules.domain_list()), rules.link_action)
        FloodLimits(
            rules.max_caps_ratio,
            rules.min_letters_for_caps,
            rules.max_emoji,
            rules.max_repeated_chars or None,
            rules.flood_action,
        )
    except InvalidRule as error:
        raise InvalidAction(str(error)) from None
    rules.save()
    record(by, "update_room_rules", room=room, **{k: changes[k] for k in sorted(changes)})
    rules_changed_on_commit(room.pk)
    return rules
