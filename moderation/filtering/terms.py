"""Blocked-term lists compiled into Aho-Corasick automata, and matching them.

Each term is normalised the way messages are (``normalise.py``) and added to one
pyahocorasick automaton under its collapsed spelling, so a scan reads the message
once whatever the number of terms. The payload of each spelling keeps the term's
run lengths and settings, checked for every hit:

* **Repeated letters.** Inside a match, a run of a letter in the message matches
  the term's run when the two are equal, or when the message's run is at least
  ``ELONGATED_RUN`` (3) long and no shorter than the term's: ``fuuuck`` matches
  ``fuck``, while a doubled letter is taken as meant (``good`` does not match
  ``god``, ``boob`` does not match ``bob``). The cost is that ``fucck``, with
  exactly two ``c``, is not read as ``fuck``. The first and last letters of a
  match may run longer in the message (``fuckk``, ``ffuck``), since a stretched
  first or last letter rarely makes another word. A message run never matches a
  longer term run: ``as`` does not match ``ass``.
* **Whole words** need a word boundary at both ends of the match
  (``NormalisedText.starts_word`` and ``ends_word``).
* **The ambiguous ``1``.** Messages read ``1`` (and ``|`` between letters) as a
  placeholder that may be ``i`` or ``l``. A term is added in the spellings where
  some of its ``i`` and ``l`` are that placeholder, fewest replacements first, at
  most ``MAX_SPELLINGS`` per term (terms with more than six ``i``/``l`` therefore
  have some rare mixes left out).

Terms with symbols (``c++``) go to a second automaton over the literal view
(``literal.py``), which is only built for a message when that automaton exists.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations, islice, product
from typing import NamedTuple

import ahocorasick

from moderation.filtering.characters import AMBIGUOUS_I_L
from moderation.filtering.literal import LiteralText, literal_text, literal_view
from moderation.filtering.normalise import NormalisedText, normalise, normalised_text
from moderation.filtering.rules import BlockedTerm

ELONGATED_RUN = 3
_REPEATED = re.compile(r"(.)\1", re.DOTALL)
MAX_SPELLINGS = 64
_ALTERNATIVES = {"i": (AMBIGUOUS_I_L,), "l": (AMBIGUOUS_I_L,), AMBIGUOUS_I_L: ("i", "l")}


@dataclass(frozen=True, slots=True)
class TermHit:
    """A blocked term found in a message, with the original span it covers."""

    term: BlockedTerm
    start: int
    end: int


class _Spelling(NamedTuple):
    term: BlockedTerm
    runs: tuple[int, ...]


class MessageViews:
    """The views of one message that matchers read, each built at most once."""

    __slots__ = ("_literal", "_literal_text", "_normalised", "_normalised_text", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._normalised_text: str | None = None
        self._normalised: NormalisedText | None = None
        self._literal_text: str | None = None
        self._literal: LiteralText | None = None

    @property
    def normalised_text(self) -> str:
        if self._normalised_text is None:
            self._normalised_text = normalised_text(self.text)
        return self._normalised_text

    @property
    def normalised(self) -> NormalisedText:
        if self._normalised is None:
            self._normalised = normalise(self.text)
        return self._normalised

    @property
    def literal_text(self) -> str:
        if self._literal_text is None:
            self._literal_text = literal_text(self.text)
        return self._literal_text

    @property
    def literal(self) -> LiteralText:
        if self._literal is None:
            self._literal = literal_view(self.text)
        return self._literal


class TermMatcher:
    """An immutable, compiled list of blocked terms."""

    __slots__ = ("_literals", "_words", "term_count")

    def __init__(self, terms: Iterable[BlockedTerm]) -> None:
        words: dict[str, list[_Spelling]] = {}
        literals: dict[str, list[BlockedTerm]] = {}
        count = 0
        for term in terms:
            if not isinstance(term, BlockedTerm):
                raise TypeError(f"Expected a BlockedTerm, got {type(term).__name__}.")
            count += 1
            if term.is_literal:
                literals.setdefault(literal_text(term.term), []).append(term)
                continue
            for key, runs in _spellings(term.term):
                words.setdefault(key, []).append(_Spelling(term, runs))
        self._words = _automaton(words)
        self._literals = _automaton(literals)
        self.term_count = count

    def find(self, views: MessageViews) -> list[TermHit]:
        """Every occurrence of a term in the message, as spans of the original."""
        hits: list[TermHit] = []
        if self._words is not None:
            found = list(self._words.iter(views.normalised_text))
            if found:
                hits.extend(_word_hits(found, views.normalised))
        if self._literals is not None:
            found = list(self._literals.iter(views.literal_text))
            if found:
                hits.extend(_literal_hits(found, views.literal))
        return hits


def _automaton(table: dict[str, list]) -> ahocorasick.Automaton | None:
    if not table:
        return None
    automaton = ahocorasick.Automaton()
    for key, entries in table.items():
        automaton.add_word(key, (len(key), tuple(entries)))
    automaton.make_automaton()
    return automaton


def _word_hits(found: list, normalised: NormalisedText) -> Iterator[TermHit]:
    runs = normalised.runs
    for last, (length, spellings) in found:
        start, end = last - length + 1, last + 1
        for spelling in spellings:
            if not _runs_match(runs, start, spelling.runs):
                continue
            if spelling.term.whole_word and not (
                normalised.starts_word(start) and normalised.ends_word(end)
            ):
                continue
            yield TermHit(spelling.term, *normalised.original_span(start, end))


def _literal_hits(found: list, literal: LiteralText) -> Iterator[TermHit]:
    for last, (length, terms) in found:
        start, end = last - length + 1, last + 1
        for term in terms:
            if term.whole_word and not (
                literal.is_word_boundary(start) and literal.is_word_boundary(end)
            ):
                continue
            yield TermHit(term, *literal.original_span(start, end))


def _runs_match(message_runs: list[int], start: int, term_runs: tuple[int, ...]) -> bool:
    last = len(term_runs) - 1
    for offset, wanted in enumerate(term_runs):
        have = message_runs[start + offset]
        if have == wanted:
            continue
        at_edge = offset == 0 or offset == last
        if have > wanted and (at_edge or have >= ELONGATED_RUN):
            continue
        return False
    return True


def _spellings(term: str) -> set[tuple[str, tuple[int, ...]]]:
    """The collapsed spellings of a term, each with its run lengths."""
    normalised = normalise(term)
    spellings = {(normalised.text, tuple(normalised.runs))}
    if not any(char in normalised.text for char in _ALTERNATIVES):
        return spellings
    runs = zip(normalised.text, normalised.runs, strict=True)
    letters = "".join(char * run for char, run in runs)
    for variant in islice(_ambiguous_variants(letters), MAX_SPELLINGS):
        spellings.add(_collapse(variant))
    return spellings


def _ambiguous_variants(letters: str) -> Iterator[str]:
    """The term with some of its i, l and placeholder letters swapped, fewest first."""
    positions = [index for index, char in enumerate(letters) if char in _ALTERNATIVES]
    for count in range(len(positions) + 1):
        for chosen in combinations(positions, count):
            choices = [_ALTERNATIVES[letters[index]] for index in chosen]
            for replacements in product(*choices):
                chars = list(letters)
                for index, replacement in zip(chosen, replacements, strict=True):
                    chars[index] = replacement
                yield "".join(chars)


def _collapse(letters: str) -> tuple[str, tuple[int, ...]]:
    if _REPEATED.search(letters) is None:
        return letters, (1,) * len(letters)
    chars: list[str] = []
    runs: list[int] = []
    for char in letters:
        if chars and chars[-1] == char and char != " ":
            runs[-1] += 1
        else:
            chars.append(char)
            runs.append(1)
    return "".join(chars), tuple(runs)
