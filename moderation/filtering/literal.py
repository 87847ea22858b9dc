# ruff: noqa: RUF001 -- look-alike characters are this module's subject.
"""The literal view of chat text, for blocked terms that contain symbols.

A term such as ``c++``, ``(a+)+$`` or ``🍆`` would lose its meaning in the word
normalisation of ``normalise.py``, which throws punctuation away; such a term is
matched literally instead: against the text with compatibility forms, case, accents,
look-alike letters and invisible characters folded, and whitespace runs read as one
space, but every symbol kept and no leetspeak or repeat collapsing. A term is never
read as a regular expression.

Apostrophes, hyphens, dots, underscores and the leet symbols ``@ $ ! |`` do not
make a term literal: ``don't`` and ``f.u.c.k`` are words written with punctuation.
"""

import unicodedata
from typing import NamedTuple

from moderation.filtering.characters import (
    INVISIBLE,
    LETTER,
    PUNCT,
    SPACE,
    fold_character,
    strip_marks,
)

IN_WORD_PUNCTUATION = frozenset("'’ʼ‘`-‐‑–._·")
_CACHE_LIMIT = 200_000


class LiteralText(NamedTuple):
    """The literal view and, per character, its original span."""

    text: str
    starts: list[int]
    ends: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind literal characters ``start:end``."""
        return self.starts[start], self.ends[end - 1]

    def is_word_boundary(self, index: int) -> bool:
        """Whether ``index`` is not inside a run of letters and digits."""
        text = self.text
        if index <= 0 or index >= len(text):
            return True
        return not (text[index - 1].isalnum() and text[index].isalnum())


def is_literal_term(term: str) -> bool:
    """Whether the term has a symbol that word normalisation would throw away."""
    return any(fold_character(ch)[0] == PUNCT and ch not in IN_WORD_PUNCTUATION for ch in term)


def _literal_output(ch: str) -> str | None:
    kind, output = fold_character(ch)
    if kind == INVISIBLE:
        return None
    if kind == SPACE:
        return " "
    if kind == LETTER or output:
        return output
    symbol = "".join(strip_marks(unicodedata.normalize("NFKC", ch).casefold()).split())
    return symbol or ch


class _LiteralTable(dict):
    """A ``str.translate`` table for the literal view, filled on first sight."""

    def __missing__(self, code: int) -> str | None:
        output = _literal_output(chr(code))
        if len(self) < _CACHE_LIMIT:
            self[code] = output
        return output


_LITERAL_TABLE = _LiteralTable()


def literal_text(text: str) -> str:
    """Only the text of ``literal_view(text)``, without building the span map."""
    return " ".join(text.translate(_LITERAL_TABLE).split())


def literal_view(text: str) -> LiteralText:
    """The literal view of ``text`` with each character's original span."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, ch in enumerate(text):
        output = _literal_output(ch)
        if output is None:
            if ends:
                ends[-1] = index + 1
            continue
        if output == " " and (not chars or chars[-1] == " "):
            continue
        chars.extend(output)
        starts.extend([index] * len(output))
        ends.extend([index + 1] * len(output))
    if chars and chars[-1] == " ":
        del chars[-1], starts[-1], ends[-1]
    return LiteralText("".join(chars), starts, ends)
