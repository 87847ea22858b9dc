# ruff: noqa: RUF002 -- look-alike characters are this module's subject.
"""Normalisation of chat text against filter evasion, with a map back to the original.

``normalise(text)`` returns the text the blocked-term automaton reads, plus, for each
normalised character, the span of original characters it came from, so that a
masked word stars exactly what the sender typed. Messages and blocked terms go
through the same function, so whatever it does to one it does to the other.

What it undoes, in order:

1. **Per character** (``characters.py``): Unicode compatibility decomposition (NFKD,
   which covers everything NFKC folds: fullwidth forms, mathematical alphanumerics,
   ligatures), case folding, accents and other combining marks, look-alike letters
   (Cyrillic and Greek homoglyphs such as ``а е о р с х``), and invisible characters
   (zero-width spaces and joiners, format characters), which are dropped without
   separating letters. Decomposing rather than composing is on purpose: the marks
   are thrown away, and the composed form would keep ``é`` apart from ``e``.
2. **Leetspeak** (``leetspeak.py``), only inside a word that also has a real
   letter: ``h3ll0`` becomes ``hello`` while ``2024`` and ``$5`` stay as they are,
   and ``@nalini`` stays a mention. The digit ``1`` may be ``i`` or ``l``: it
   becomes a placeholder, and each blocked term is compiled in the spellings where
   some of its ``i``/``l`` are that placeholder (``terms.py``), so ``k1ll``,
   ``ki11`` and ``1diot`` all match without reading every ``l`` as ``i``.
3. **Letters spaced out or broken by punctuation.** Punctuation with no space
   around it joins the pieces into one word (``f.u.c.k``, ``f-u-c-k``, ``don't``,
   ``f🔥ck``). Spaces join only single characters (``f u c k``), because joining
   ``its hit`` would read ``itshit`` and contain ``shit``.
4. **Repeated letters** are collapsed to one, and each normalised character keeps
   its run length. A term keeps its own run lengths too, and ``terms.py`` decides
   which runs match: ``fuuuuck`` matches ``fuck``, while the term ``ass`` (``a``,
   then ``s`` twice) does not match the word ``as``, nor ``god`` the word ``good``.

``normalised_text(text)`` computes the same text without the map, several times
faster; the filter calls ``normalise`` only for a message in which the automaton
found something. The tests check that the two always agree.

Trade-offs, and why terms choose between whole-word and substring matching:

* Substring terms catch words hidden inside others (``fuckfuckfuck``,
  ``shithead``) but fire on innocent words that contain them: the "Scunthorpe
  problem". A whole-word term matches only between word boundaries (start or end of
  the message, a space, or a punctuation mark between two pieces of two or more
  letters, as in ``nice.shit``), so ``cunt`` as a whole word leaves ``Scunthorpe``
  alone, including when it is dotted out letter by letter. Whole-word terms miss
  inflections (``shits``): list those as terms of their own.
* Joining single letters across spaces can join innocent ones (``r u a b c``); the
  risk is limited to runs of one-letter words.
* Leetspeak and look-alikes can turn a few innocent words into blocked ones; the
  "real letter in the word" rule keeps numbers, prices and times out of it.
* Known misses: a term typed with a word break the message lacks (``fu ck``), and
  mentions spelled with a leading ``@`` as a letter (``@ss``).
"""

import re
from bisect import bisect_left
from itertools import chain, compress, pairwise, repeat
from typing import NamedTuple

from moderation.filtering.characters import FOLD_TABLE, FOLDED_SIZES
from moderation.filtering.leetspeak import read_leet, resolve_symbols

# The folded text (characters.FOLD_TABLE) has one " " per whitespace character and
# one "." per punctuation character; everything else is letters, digits and the leet
# symbols. Every pattern here runs in linear time: none has nested or overlapping
# quantifiers, and the join pattern can only start just before a run of dots.
_SEPARATORS = re.compile(r"([ .]+)")
_TOKENS = re.compile(r"[^ .]+")
# Punctuation alone between two tokens, which joins them into one word.
_PUNCTUATION_JOIN = re.compile(r"[^ .]\.++[^ .]")
_HAS_DIGIT = re.compile(r"[0-9]")
_REPEATED = re.compile(r"(.)(?=\1)", re.DOTALL)


class NormalisedText(NamedTuple):
    """The normalised text and where each of its characters came from.

    ``starts[i]:ends[i]`` is the span of original characters behind normalised
    character ``i`` (for a collapsed run, the whole run including invisible
    characters inside it); ``runs[i]`` is how many normalised characters the run
    had. Words are separated by single spaces. Punctuation that joined two pieces of
    two or more characters (``nice.shit``) leaves a soft boundary: a word may start
    at each index in ``soft_starts`` and end at each index in ``soft_ends`` (the two
    differ when the pieces share a collapsed letter, as in ``shit.thing``).
    """

    text: str
    starts: list[int]
    ends: list[int]
    runs: list[int]
    soft_starts: frozenset[int]
    soft_ends: frozenset[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind normalised characters ``start:end``."""
        return self.starts[start], self.ends[end - 1]

    def starts_word(self, index: int) -> bool:
        """Whether a word may start at normalised character ``index``."""
        return index <= 0 or self.text[index - 1] == " " or index in self.soft_starts

    def ends_word(self, index: int) -> bool:
        """Whether a word may end just before normalised character ``index``."""
        return index >= len(self.text) or self.text[index] == " " or index in self.soft_ends


def normalised_text(text: str) -> str:
    """Only the text of ``normalise(text)``, several times faster.

    The filter scans this first and calls ``normalise`` only when something matched,
    since the map back to the original is needed only then.
    """
    folded = resolve_symbols(text.translate(FOLD_TABLE))
    has_digits = _HAS_DIGIT.search(folded) is not None
    tokens = folded.replace(".", " ").split()
    if not _joins_tokens(folded, tokens):
        # The common case: every token is a word of its own.
        if has_digits:
            tokens = [read_leet(token) for token in tokens]
        return _REPEATED.sub("", " ".join(tokens))
    spelled = " ".join([_spell(word, has_digits) for word in _words(folded)])
    return _REPEATED.sub("", spelled)


def normalise(text: str) -> NormalisedText:
    """Normalise ``text`` against evasion; see the module docstring for the rules."""
    folded, origin_starts, origin_ends = _fold_with_origins(text)
    folded = resolve_symbols(folded)
    has_digits = _HAS_DIGIT.search(folded) is not None
    if _joins_tokens(folded, folded.replace(".", " ").split()):
        words = _words(folded)
    else:
        words = [[(token.start(), token[0], False)] for token in _TOKENS.finditer(folded)]
    return _collapsed(words, has_digits, origin_starts, origin_ends)


def _collapsed(
    words: list[list[tuple[int, str, bool]]],
    has_digits: bool,
    origin_starts: list[int],
    origin_ends: list[int],
) -> NormalisedText:
    """Spell the words, collapse their repeats, and carry the spans along.

    Spans are copied one token at a time as slices; only repeated letters and soft
    boundaries are visited one by one.
    """
    starts: list[int] = []
    ends: list[int] = []
    soft: list[int] = []  # where soft-bounded tokens begin, before collapsing
    for word in words:
        if starts:
            # The space between two words spans the gap between them.
            starts.append(ends[-1])
            ends.append(origin_starts[word[0][0]])
        for offset, token, soft_before in word:
            if soft_before:
                soft.append(len(starts))
            starts.extend(origin_starts[offset : offset + len(token)])
            ends.extend(origin_ends[offset : offset + len(token)])
    spelled = " ".join([_spell(word, has_digits) for word in words])
    runs = [1] * len(spelled)
    merged = [repeat.start() for repeat in _REPEATED.finditer(spelled)]
    if not merged and not soft:
        return NormalisedText(spelled, starts, ends, runs, frozenset(), frozenset())
    keep = [True] * len(spelled)
    for index in merged:  # ascending, so a long run passes its start along
        starts[index + 1] = starts[index]
        runs[index + 1] = runs[index] + 1
        keep[index] = False
    soft_starts, soft_ends = _soft_boundaries(soft, merged)
    return NormalisedText(
        _REPEATED.sub("", spelled),
        list(compress(starts, keep)),
        list(compress(ends, keep)),
        list(compress(runs, keep)),
        soft_starts,
        soft_ends,
    )


def _soft_boundaries(soft: list[int], merged: list[int]) -> tuple[frozenset, frozenset]:
    """Where words may start and end after collapsing, given soft boundaries before it.

    A boundary inside a collapsed run (``shit.thing``) starts the second word at the
    run and ends the first word after it.
    """
    merged_set = set(merged)
    starts, ends = set(), set()
    for boundary in soft:
        collapsed = boundary - bisect_left(merged, boundary)
        starts.add(collapsed)
        ends.add(collapsed + (boundary - 1 in merged_set))
    return frozenset(starts), frozenset(ends)


def _fold_with_origins(text: str) -> tuple[str, list[int], list[int]]:
    """``text.translate(FOLD_TABLE)``, with the original span of each folded character.

    A folded character ends where the next one starts, so invisible characters
    after a letter belong to its span, and masking the letter also removes the
    accents and joiners typed with it. Built from C-level ``map`` calls rather than
    a loop over characters, since hostile messages can be long.
    """
    folded = text.translate(FOLD_TABLE)
    length = len(text)
    if len(folded) == length and text.isascii():
        # ASCII folds one character to one, unless a control character was dropped.
        return folded, list(range(length)), list(range(1, length + 1))
    sizes = list(map(FOLDED_SIZES.__getitem__, map(ord, text)))
    if max(sizes) <= 1:
        # No character folded into several (the usual case): each start is the
        # index of a kept character, and each end is the next start.
        starts = list(compress(range(length), sizes))
        ends = starts[1:]
        if starts:
            ends.append(length)
        return folded, starts, ends
    starts = list(chain.from_iterable(map(repeat, range(length), sizes)))
    following = starts[1:]
    following.append(length)
    ends = list(map(max, map((1).__add__, starts), following))
    return folded, starts, ends


def _joins_tokens(folded: str, tokens: list[str]) -> bool:
    """Whether any two tokens form one word (see ``_words``)."""
    if "." in folded and _PUNCTUATION_JOIN.search(folded):
        return True
    lengths = list(map(len, tokens))
    return 1 in lengths and any(a == b == 1 for a, b in pairwise(lengths))


def _words(folded: str) -> list[list[tuple[int, str, bool]]]:
    """Group the tokens of the folded text into words.

    Each word is a list of ``(offset in folded, token, soft boundary before)``.
    Punctuation without a space joins tokens; a space joins only single characters.
    """
    words: list[list[tuple[int, str, bool]]] = []
    word: list[tuple[int, str, bool]] = []
    previous_length = 0
    separator = ""
    offset = 0
    for index, part in enumerate(_SEPARATORS.split(folded)):
        if index % 2:
            separator = part
        elif part:
            length = len(part)
            spaced = " " in separator
            if not word:
                word.append((offset, part, False))
            elif spaced and not (previous_length == 1 and length == 1):
                words.append(word)
                word = [(offset, part, False)]
            else:
                soft = not spaced and previous_length >= 2 and length >= 2
                word.append((offset, part, soft))
            previous_length = length
        offset += len(part)
    if word:
        words.append(word)
    return words


def _spell(word: list[tuple[int, str, bool]], has_digits: bool) -> str:
    """The word's tokens joined, with leetspeak digits read."""
    spelled = word[0][1] if len(word) == 1 else "".join([token for _, token, _ in word])
    return read_leet(spelled) if has_digits else spelled
