"""The chat filter: compiled once from a room's rules, then asked about every message.

``compile_filter(terms, link_policy, flood_limits)`` builds an immutable
``ChatFilter``; ``ChatFilter.check(text)`` returns a ``Verdict``: the strongest
action any rule asked for (block > hold > mask > allow), the text to broadcast
(with masked words starred), and the reasons in words the sender can read. Reasons
name the kind of rule, never the blocked term, so the list cannot be read back by
probing it; their spans point into the sender's own message.

A site-wide filter and a room's filter are combined with ``merge``, which only
concatenates the compiled parts (no recompiling): the message is normalised once
and each part's automaton scans it. The Django side caches compiled filters and
rebuilds one when its rules change; a filter is safe to share between threads.

Pure Python on purpose (no Django imports): the chat consumer calls it for every
message, and the benchmark and tests run it without a database.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from moderation.filtering.characters import INVISIBLE, fold_character
from moderation.filtering.flood import count_emoji, has_repeated_run, too_many_capitals
from moderation.filtering.links import find_links
from moderation.filtering.rules import (
    ALLOW_ALL,
    ALLOW_LIST,
    BLOCK,
    HOLD,
    MASK,
    BlockedTerm,
    FloodLimits,
    LinkPolicy,
)
from moderation.filtering.terms import MessageViews, TermMatcher

ALLOW = "allow"
_STRENGTH = {ALLOW: 0, MASK: 1, HOLD: 2, BLOCK: 3}

BLOCKED_TERM = "blocked_term"
LINK = "link"
CAPS = "caps"
EMOJI = "emoji"
REPEATED_CHARACTERS = "repeated_characters"

_WHAT_FIRED = {
    BLOCKED_TERM: "a word that isn't allowed here",
    LINK: "a link, and links aren't allowed here",
    ALLOW_LIST: "a link to a site that isn't allowed here",
    CAPS: "too many capital letters",
    EMOJI: "too many emoji",
    REPEATED_CHARACTERS: "too many repeated characters",
}
_WHAT_FOLLOWS = {
    BLOCK: "so it wasn't sent.",
    HOLD: "so a moderator will review it before it appears.",
    MASK: "so that part was hidden.",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a message was not simply allowed.

    ``code`` is stable for programs (``blocked_term``, ``link``, ``caps``,
    ``emoji``, ``repeated_characters``); ``message`` is for the sender; ``spans``
    are the ``(start, end)`` offsets in the sender's text that fired, if any.
    """

    code: str
    action: str
    message: str
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The filter's answer for one message.

    ``text`` is the message with every masked span starred (one ``*`` per visible
    character; combining marks, joiners and other invisible characters inside a
    masked span are removed), and is the original text when nothing was masked.
    """

    action: str
    text: str
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class _Finding:
    code: str
    action: str
    span: tuple[int, int] | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ChatFilter:
    """A compiled, immutable chat filter; see ``compile_filter``."""

    term_matchers: tuple[TermMatcher, ...] = ()
    link_policies: tuple[LinkPolicy, ...] = ()
    flood_limits: tuple[FloodLimits, ...] = ()

    @property
    def term_count(self) -> int:
        """How many blocked terms the filter holds."""
        return sum(matcher.term_count for matcher in self.term_matchers)

    def merge(self, other: "ChatFilter") -> "ChatFilter":
        """A filter applying the rules of both (e.g. site-wide and a room's own)."""
        return ChatFilter(
            self.term_matchers + other.term_matchers,
            _unique(self.link_policies + other.link_policies),
            _unique(self.flood_limits + other.flood_limits),
        )

    def check(self, text: str) -> Verdict:
        """Judge one chat message."""
        if not isinstance(text, str):
            raise TypeError(f"check() takes the message text, not {type(text).__name__}.")
        findings = self._term_findings(text)
        if self.link_policies:
            findings.extend(self._link_findings(text))
        for limits in self.flood_limits:
            findings.extend(_flood_findings(text, limits))
        if not findings:
            return Verdict(ALLOW, text)
        return _verdict(text, findings)

    def _term_findings(self, text: str) -> list[_Finding]:
        findings: list[_Finding] = []
        if not self.term_matchers:
            return findings
        views = MessageViews(text)
        for matcher in self.term_matchers:
            for hit in matcher.find(views):
                findings.append(_Finding(BLOCKED_TERM, hit.term.action, (hit.start, hit.end)))
        return findings

    def _link_findings(self, text: str) -> list[_Finding]:
        findings = []
        for link in find_links(text):
            for policy in self.link_policies:
                if not policy.allows_host(link.host):
                    span = (link.start, link.end)
                    findings.append(_Finding(LINK, policy.action, span, policy.mode))
        return findings


def compile_filter(
    terms: Iterable[BlockedTerm] = (),
    link_policy: LinkPolicy | None = None,
    flood_limits: FloodLimits | None = None,
) -> ChatFilter:
    """Compile rules into a ``ChatFilter`` (10,000 terms take well under a second)."""
    matcher = TermMatcher(terms)
    links = () if link_policy is None or link_policy.mode == ALLOW_ALL else (link_policy,)
    return ChatFilter(
        (matcher,) if matcher.term_count else (),
        links,
        () if flood_limits is None else (flood_limits,),
    )


def _flood_findings(text: str, limits: FloodLimits) -> list[_Finding]:
    findings = []
    if limits.max_caps_ratio is not None and too_many_capitals(
        text, limits.max_caps_ratio, limits.min_letters_for_caps
    ):
        findings.append(_Finding(CAPS, limits.action))
    if limits.max_emoji is not None and count_emoji(text) > limits.max_emoji:
        findings.append(_Finding(EMOJI, limits.action))
    if limits.max_repeated_chars is not None and has_repeated_run(text, limits.max_repeated_chars):
        findings.append(_Finding(REPEATED_CHARACTERS, limits.action))
    return findings


def _verdict(text: str, findings: list[_Finding]) -> Verdict:
    action = max((finding.action for finding in findings), key=_STRENGTH.__getitem__)
    masked = [finding.span for finding in findings if finding.action == MASK and finding.span]
    return Verdict(action, _mask(text, masked) if masked else text, _reasons(findings))


def _reasons(findings: list[_Finding]) -> tuple[Reason, ...]:
    # Dicts as ordered sets: a hostile message can produce thousands of findings.
    grouped: dict[tuple[str, str, str], dict[tuple[int, int], None]] = {}
    for finding in findings:
        spans = grouped.setdefault((finding.code, finding.action, finding.detail), {})
        if finding.span is not None:
            spans[finding.span] = None
    reasons = [
        Reason(code, action, _sender_message(code, action, detail), tuple(sorted(spans)))
        for (code, action, detail), spans in grouped.items()
    ]
    reasons.sort(key=lambda reason: -_STRENGTH[reason.action])
    return tuple(reasons)


def _sender_message(code: str, action: str, detail: str) -> str:
    what = _WHAT_FIRED[ALLOW_LIST if code == LINK and detail == ALLOW_LIST else code]
    return f"Your message has {what}, {_WHAT_FOLLOWS[action]}"


class _StarTable(dict):
    """A ``str.translate`` table: one star per visible character, invisible ones dropped."""

    def __missing__(self, code: int) -> str | None:
        star = None if fold_character(chr(code))[0] == INVISIBLE else "*"
        if len(self) < 200_000:  # bounded, like the other character tables
            self[code] = star
        return star


_STARS = _StarTable()


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    pieces = []
    position = 0
    for start, end in _merged(spans):
        pieces.append(text[position:start])
        pieces.append(text[start:end].translate(_STARS))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _unique(items: tuple) -> tuple:
    return tuple(dict.fromkeys(items))
