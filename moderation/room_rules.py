"""A room's compiled chat filter and followers-only flag: built from the database, cached.

A room's filter is the site-wide blocked terms merged with the room's own
terms, link policy and flood limits (moderation.filtering does the matching).
Compiling 10,000 terms takes a good part of a second, so a process compiles a
room's rules once and keeps them while the room's *rules token* stays the same.
The token is derived from the rules in the database (how many terms, when any
changed), and moderation.enforcement hands the current one out with every
per-message lookup: a change saved in any process reaches every process on the
next message, at no extra round trip.
"""

import logging
import threading
from dataclasses import dataclass

from django.db.models import Count, Max

from moderation import conf
from moderation.filtering import (
    BlockedTerm,
    ChatFilter,
    FloodLimits,
    InvalidRule,
    LinkPolicy,
    compile_filter,
)
from moderation.models import BlockedTermRule, RoomRules

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompiledRules:
    chat_filter: ChatFilter
    followers_only: bool


_lock = threading.Lock()
_rooms: dict[int, tuple[str, str, CompiledRules]] = {}
_site: tuple[str, ChatFilter] | None = None


def _stamp(moment) -> str:
    return f"{moment.timestamp():.6f}" if moment else "-"


def _terms_of(room_id: int | None):
    rules = BlockedTermRule.objects.all()
    return rules.filter(room__isnull=True) if room_id is None else rules.filter(room_id=room_id)


def rules_token(room_id: int | None) -> str:
    """Changes whenever the room's (None: the site's) rules change; stable otherwise."""
    found = _terms_of(room_id).aggregate(count=Count("pk"), latest=Max("updated_at"))
    token = f"{found['count']}:{_stamp(found['latest'])}"
    if room_id is not None:
        changed = RoomRules.objects.filter(room_id=room_id).values_list("updated_at", flat=True)
        token += f":{_stamp(changed.first())}"
    return token


def link_policy_of(rules: RoomRules | None) -> LinkPolicy:
    if rules is None:
        return LinkPolicy(conf.default_link_mode(), frozenset(conf.default_allowed_domains()))
    return LinkPolicy(rules.link_mode, frozenset(rules.domain_list()), rules.link_action)


def flood_limits_of(rules: RoomRules | None) -> FloodLimits | None:
    if rules is None:
        defaults = conf.default_flood_limits()
        return FloodLimits(**defaults) if defaults else None
    if rules.max_caps_ratio is None and rules.max_emoji is None and not rules.max_repeated_chars:
        return None
    return FloodLimits(
        max_caps_ratio=rules.max_caps_ratio,
        min_letters_for_caps=rules.min_letters_for_caps,
        max_emoji=rules.max_emoji,
        max_repeated_chars=rules.max_repeated_chars or None,
        action=rules.flood_action,
    )


def _blocked_terms(room_id: int | None) -> list[BlockedTerm]:
    terms = []
    for term, action, whole_word in _terms_of(room_id).values_list("term", "action", "whole_word"):
        try:
            terms.append(BlockedTerm(term, action, whole_word=whole_word))
        except InvalidRule as error:  # saved before a rule change made it invalid: skip, loudly
            log.warning("skipping blocked term rule %r: %s", term, error)
    return terms


def _site_filter(site_token: str) -> ChatFilter:
    global _site
    site = _site
    if site is not None and site[0] == site_token:
        return site[1]
    compiled = compile_filter(_blocked_terms(None))
    _site = (site_token, compiled)
    return compiled


def cached(room_id: int, room_token: str, site_token: str) -> CompiledRules | None:
    """The compiled rules if this process holds them for these tokens (no I/O: the hot path)."""
    entry = _rooms.get(room_id)
    if entry is not None and entry[0] == room_token and entry[1] == site_token:
        return entry[2]
    return None


def load(room_id: int, room_token: str, site_token: str) -> CompiledRules:
    """Compile the room's rules from the database and keep them under these tokens."""
    rules = RoomRules.objects.filter(room_id=room_id).first()
    room_filter = compile_filter(
        _blocked_terms(room_id), link_policy_of(rules), flood_limits_of(rules)
    )
    compiled = CompiledRules(
        _site_filter(site_token).merge(room_filter), bool(rules and rules.followers_only)
    )
    with _lock:
        while len(_rooms) >= conf.rules_cache_size():
            _rooms.pop(next(iter(_rooms)))
        _rooms.pop(room_id, None)  # re-insert at the end: the dict's order is least recent first
        _rooms[room_id] = (room_token, site_token, compiled)
    return compiled


def forget_compiled_rules() -> None:
    """Drop every compiled filter this process holds (tests swap settings and databases)."""
    global _site
    with _lock:
        _rooms.clear()
        _site = None
