"""The chat rules moderators set, as immutable values a filter is compiled from.

Rules are checked when they are made, so a bad rule fails in the form that created
it (as ``InvalidRule``, with a message fit to show the moderator) rather than in
the chat socket. Terms are plain text, never patterns: ``(a+)+$`` blocks exactly
those characters.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from moderation.filtering.literal import is_literal_term, literal_text
from moderation.filtering.normalise import normalised_text

BLOCK = "block"
HOLD = "hold"
MASK = "mask"
ACTIONS = (BLOCK, HOLD, MASK)

ALLOW_ALL = "allow_all"
BLOCK_ALL = "block_all"
ALLOW_LIST = "allow_list"
LINK_MODES = (ALLOW_ALL, BLOCK_ALL, ALLOW_LIST)

MAX_TERM_LENGTH = 200


class InvalidRule(ValueError):
    """A rule that cannot be compiled; the message says why, for the moderator."""


@dataclass(frozen=True, slots=True)
class BlockedTerm:
    """A word or phrase to block, hold for review, or mask with stars.

    ``whole_word`` terms match only as whole words (``cunt`` leaves ``Scunthorpe``
    alone); the others match inside words too (``fuck`` in ``fuckfuckfuck``).
    Whole word is the default because a false positive silences an innocent viewer.
    """

    term: str
    action: str = BLOCK
    whole_word: bool = True
    _literal: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.term, str) or not self.term.strip():
            raise InvalidRule("A blocked term cannot be empty.")
        if len(self.term) > MAX_TERM_LENGTH:
            raise InvalidRule(f"A blocked term can be at most {MAX_TERM_LENGTH} characters.")
        _check_action(self.action, ACTIONS)
        if not isinstance(self.whole_word, bool):
            raise InvalidRule("whole_word must be True or False.")
        object.__setattr__(self, "_literal", is_literal_term(self.term))
        form = literal_text(self.term) if self._literal else normalised_text(self.term)
        if not form.strip():
            raise InvalidRule(
                f"The blocked term {self.term!r} has nothing left to match once "
                "invisible characters, accents and punctuation are removed."
            )

    @property
    def is_literal(self) -> bool:
        """Whether the term is matched literally (it has symbols); see literal.py."""
        return self._literal


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """Which links a room accepts.

    ``allow_list`` accepts links to ``allowed_domains`` and their subdomains
    (``youtube.com`` accepts ``m.youtube.com``); domains may be given with a scheme,
    a ``www.`` or a path, which are dropped.
    """

    mode: str = ALLOW_ALL
    allowed_domains: frozenset[str] = field(default_factory=frozenset)
    action: str = BLOCK
    _most_labels: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in LINK_MODES:
            raise InvalidRule(f"Link mode must be one of {', '.join(LINK_MODES)}.")
        _check_action(self.action, ACTIONS)
        if isinstance(self.allowed_domains, str):
            raise InvalidRule("allowed_domains must be a collection of domains, not one string.")
        domains = frozenset(_canonical_domain(domain) for domain in self.allowed_domains)
        object.__setattr__(self, "allowed_domains", domains)
        most_labels = max((domain.count(".") + 1 for domain in domains), default=0)
        object.__setattr__(self, "_most_labels", most_labels)

    def allows_host(self, host: str) -> bool:
        """Whether a link to ``host`` passes this policy."""
        if self.mode == ALLOW_ALL:
            return True
        if self.mode == BLOCK_ALL:
            return False
        labels = host.lower().rstrip(".").split(".")
        # Only suffixes as long as the longest allowed domain can match; trying
        # every suffix would be quadratic in a hostile host's number of labels.
        shortest = max(0, len(labels) - self._most_labels)
        return any(
            ".".join(labels[i:]) in self.allowed_domains for i in range(shortest, len(labels))
        )


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Limits on capitals, emoji and repeated characters; ``None`` switches one off.

    ``max_caps_ratio`` is the largest share of capitals among the letters, applied
    only to messages with at least ``min_letters_for_caps`` letters (a shouted
    "GG" is fine). ``max_emoji`` counts emoji as viewers see them (a family or a
    flag is one). ``max_repeated_chars`` is the longest run of one visible
    character. Flooding cannot be masked, so the action is block or hold.
    """

    max_caps_ratio: float | None = 0.7
    min_letters_for_caps: int = 12
    max_emoji: int | None = 10
    max_repeated_chars: int | None = 12
    action: str = BLOCK

    def __post_init__(self) -> None:
        ratio = self.max_caps_ratio
        if ratio is not None and not (isinstance(ratio, int | float) and 0 <= ratio <= 1):
            raise InvalidRule("max_caps_ratio must be between 0 and 1.")
        _check_count("min_letters_for_caps", self.min_letters_for_caps, minimum=1)
        _check_count("max_emoji", self.max_emoji, minimum=0)
        _check_count("max_repeated_chars", self.max_repeated_chars, minimum=1)
        _check_action(self.action, (BLOCK, HOLD))


def blocked_terms(
    terms: Iterable[str], action: str = BLOCK, *, whole_word: bool = True
) -> tuple[BlockedTerm, ...]:
    """Convenience: one ``BlockedTerm`` per string, all with the same settings."""
    return tuple(BlockedTerm(term, action, whole_word=whole_word) for term in terms)


def _check_action(action: str, allowed: tuple[str, ...]) -> None:
    if action not in allowed:
        raise InvalidRule(f"Action must be one of {', '.join(allowed)}, not {action!r}.")


def _check_count(name: str, value: int | None, *, minimum: int) -> None:
    if value is None and name != "min_letters_for_caps":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRule(f"{name} must be a whole number of at least {minimum}.")


def _canonical_domain(domain: str) -> str:
    if not isinstance(domain, str):
        raise InvalidRule("Each allowed domain must be text.")
    text = unicodedata.normalize("NFKC", domain).strip().lower()
    text = text.partition("://")[2] if "://" in text else text
    for end in "/?#":
        text = text.partition(end)[0]
    text = text.partition(":")[0].strip(".")
    text = text.removeprefix("www.")
    if not text or any(ch.isspace() for ch in text):
        raise InvalidRule(f"{domain!r} is not a domain.")
    return text
