"""Leetspeak: when a digit or symbol in chat stands for a letter.

Only inside a word that also has a real letter, so ``h3ll0`` reads as ``hello``
while ``2024``, ``$5`` and ``100%`` stay as they are. Digits ``0 3 4 5 7`` read as
``o e a s t``; ``$`` as ``s``; ``@`` as ``a`` except at the start of a word, where
it is a mention (``@nalini`` must not read as ``analini``); ``!`` as ``i`` and
``|`` as ``AMBIGUOUS_I_L`` only between letters (``sh!t``), since a trailing ``!``
is punctuation. The digit ``1`` may be ``i`` or ``l`` (``k1ll``, ``1diot``), so it
becomes the placeholder ``AMBIGUOUS_I_L``, which term compilation accounts for
(``terms.py``).

Symbols are resolved on the folded text (``characters.FOLD_TABLE``), where a
symbol that is not a letter becomes the punctuation mark ``.``; digits are read
later, per word, once tokens have been joined into words.
"""

import re

from moderation.filtering.characters import AMBIGUOUS_I_L

LEET_DIGITS = {"0": "o", "1": AMBIGUOUS_I_L, "3": "e", "4": "a", "5": "s", "7": "t"}
_LEET_TABLE = str.maketrans(LEET_DIGITS)

# Linear: the token pattern can only start at a token's first character and its
# quantifiers are possessive.
_SYMBOL_TOKEN = re.compile(r"(?<![^ .])[^ .@$!|]*+[@$!|][^ .]*+")
_HAS_SYMBOL = re.compile(r"[@$!|]")
_BAR_RUNS = re.compile(r"[!|]+")
_SYMBOLS_AS_PUNCTUATION = str.maketrans("!|", "..")
_HAS_DIGIT = re.compile(r"[0-9]")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def resolve_symbols(folded: str) -> str:
    """Replace each leet symbol by the letter it stands for, or by punctuation."""
    if "@" in folded or "$" in folded:
        return _SYMBOL_TOKEN.sub(_resolve_token_symbols, folded)
    if "!" not in folded and "|" not in folded:
        return folded
    # Common case: "!" only at the ends of words ("gg!!"), where it is punctuation.
    for run in _BAR_RUNS.finditer(folded):
        if run.end() < len(folded) and folded[run.end()] not in " .":
            return _SYMBOL_TOKEN.sub(_resolve_token_symbols, folded)
    return folded.translate(_SYMBOLS_AS_PUNCTUATION)


def _resolve_token_symbols(match: re.Match) -> str:
    token = match[0]
    if _HAS_LETTER.search(token) is None:
        return _HAS_SYMBOL.sub(".", token)
    core = [position for position, char in enumerate(token) if char not in "@$!|"]
    first, last = core[0], core[-1]
    resolved = []
    for position, char in enumerate(token):
        if char == "$":
            char = "s"
        elif char == "@":
            # A leading "@" is a mention.
            char = "a" if first < position else "."
        elif char in "!|":
            inside = first < position < last
            char = ("i" if char == "!" else AMBIGUOUS_I_L) if inside else "."
        resolved.append(char)
    return "".join(resolved)


def read_leet(word: str) -> str:
    """Read digits as letters in a word that also has a real letter."""
    if _HAS_DIGIT.search(word) and _HAS_LETTER.search(word):
        return word.translate(_LEET_TABLE)
    return word
