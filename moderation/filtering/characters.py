# ruff: noqa: RUF001, RUF002 -- look-alike characters are this module's subject.
"""What one character becomes when the chat filter normalises a message.

Each code point is folded once into a (kind, output) pair and cached:

* ``LETTER``: letters of any script after compatibility decomposition (fullwidth
  forms, mathematical alphanumerics, circled and squared letters), case folding,
  accent stripping and look-alike mapping (Cyrillic ``а`` and Greek ``ο`` become
  Latin ``a`` and ``o``). The output may be longer than one character
  (``ß`` -> ``ss``, ``ﬁ`` -> ``fi``).
* ``DIGIT``: decimal digits of any script, as ASCII digits. Whether ``3`` means
  ``e`` depends on the neighbouring characters, so leetspeak is decided later, per
  word, in ``normalise.py``.
* ``SYMBOL``: the leetspeak symbols ``@ $ ! |``; also decided per word.
* ``SPACE``: whitespace, and blank-looking fillers (Hangul filler, braille blank).
* ``PUNCT``: every other visible character (punctuation, emoji, symbols).
* ``INVISIBLE``: combining marks, zero-width and other format characters, variation
  selectors, emoji skin-tone modifiers and control characters. They are dropped
  from the normalised text and never separate letters, so ``f\\u200bu\\u0301ck``
  reads as ``fuck``.

``FOLD_TABLE`` applies this to a whole message with ``str.translate``, one C-level
pass; ``FOLDED_SIZES`` says how many folded characters each code point became, for
the map back to the original text. All three caches are bounded.

The look-alike table is hand-written because the Unicode confusables data is not in
the standard library and the full table maps far more than chat evasion needs (it
would, for example, fold digits and letters together). It only lists lowercase
forms, since case folding runs first.
"""

import unicodedata

LETTER = 0
DIGIT = 1
SYMBOL = 2
SPACE = 3
PUNCT = 4
INVISIBLE = 5

# Stands for a character that may be "i" or "l" (the digit 1, or "|" inside a word).
# The normalised text never contains it otherwise, and term compilation expands
# every i and l of a term into it (see terms.py).
AMBIGUOUS_I_L = "|"

LEET_SYMBOLS = frozenset("@$!|")

LOOKALIKES: dict[str, str] = {}
for _look_alikes, _letters in (
    # Cyrillic
    ("авдекмнопрстухьѕіјԁԛ", "abdekmhonpctyxbsijdq"),
    ("ԝүһӏɡ", "wyhlg"),
    # Greek
    ("αβγδεηικμνορστυχωϲϳ", "abydenikuvopotuxwcj"),
    # Armenian
    ("օսհցզ", "ouhgq"),
    # Latin letters that look like plainer ones
    ("ıɩɑɒɛɪʟʀʏɴɢʜʙᴀᴄᴅᴇꜰᴊᴋ", "iiaaeilrynghbacdefjk"),
    ("ᴍᴏᴘǫꜱᴛᴜᴠᴡᴢøđħłŧƀɨʉ", "mopqstuvwzodhltbiu"),
):
    LOOKALIKES.update(zip(_look_alikes, _letters, strict=True))

# Characters that render as blank space but are letters or symbols to Unicode.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Emoji skin-tone modifiers are symbols to Unicode but belong to the emoji before them.
_SKIN_TONES = range(0x1F3FB, 0x1F400)
# Regional indicators are flag halves, but spelled one by one they read as letters.
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
# Negative circled and negative squared capitals have no Unicode decomposition.
_NEGATIVE_LETTER_BLOCKS = (range(0x1F150, 0x1F16A), range(0x1F170, 0x1F18A))

_INVISIBLE_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf", "Cc", "Co", "Cn"})
_CACHE_LIMIT = 200_000
_cache: dict[str, tuple[int, str]] = {}

# Every punctuation character folds to this one mark, and every space to " ".
PUNCT_MARK = "."


def fold_character(ch: str) -> tuple[int, str]:
    """Return ``(kind, output)`` for one code point (cached)."""
    folded = _cache.get(ch)
    if folded is None:
        folded = _fold_uncached(ch)
        # Hostile input can name any of Unicode's code points; keep the cache bounded.
        if len(_cache) < _CACHE_LIMIT:
            _cache[ch] = folded
    return folded


def folded_output(kind: int, output: str, ch: str) -> str | None:
    """What one character contributes to the folded text (``None``: nothing).

    Separators become one space or one ``PUNCT_MARK``, invisible characters vanish,
    letters and digits become their output, and leet symbols stay themselves.
    """
    if kind == SPACE:
        return " "
    if kind == PUNCT:
        return PUNCT_MARK
    if kind == INVISIBLE:
        return None
    return ch if kind == SYMBOL else output


class _FoldTable(dict):
    """A ``str.translate`` table that folds each code point on first sight."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        output = folded_output(*fold_character(ch), ch)
        if len(self) < _CACHE_LIMIT:
            self[code] = output
        return output


FOLD_TABLE = _FoldTable()


class _FoldedSizes(dict):
    """How many folded characters each code point becomes (0 when it is dropped)."""

    def __missing__(self, code: int) -> int:
        output = FOLD_TABLE[code]
        size = 0 if output is None else len(output)
        if len(self) < _CACHE_LIMIT:
            self[code] = size
        return size


FOLDED_SIZES = _FoldedSizes()


def strip_marks(text: str) -> str:
    """Drop combining marks (the accents left behind by decomposition)."""
    return "".join(c for c in text if not unicodedata.category(c).startswith("M"))


def fold_letters(text: str) -> str:
    """Decompose, case fold, strip marks and map look-alikes, keeping all characters."""
    text = strip_marks(unicodedata.normalize("NFKD", text))
    # Case folding can itself produce decomposable characters ("İ" -> "i̇").
    text = strip_marks(unicodedata.normalize("NFKD", text.casefold()))
    return "".join(LOOKALIKES.get(c, c) for c in text)


def _fold_uncached(ch: str) -> tuple[int, str]:
    if ch in LEET_SYMBOLS:
        return SYMBOL, ch
    code = ord(ch)
    if code in _REGIONAL_INDICATORS:
        return LETTER, chr(code - 0x1F1E6 + ord("a"))
    for block in _NEGATIVE_LETTER_BLOCKS:
        if code in block:
            return LETTER, chr(code - block.start + ord("a"))
    if code in _SKIN_TONES:
        return INVISIBLE, ""
    if ch.isspace() or ch in BLANK_LOOKING:
        return SPACE, ""
    category = unicodedata.category(ch)
    if category in _INVISIBLE_CATEGORIES:
        return INVISIBLE, ""
    return _fold_visible(ch)


def _fold_visible(ch: str) -> tuple[int, str]:
    folded = fold_letters(ch)
    if not folded:
        return INVISIBLE, ""
    alphanumeric = "".join(c for c in folded if c.isalnum())
    if not alphanumeric:
        return (SPACE, "") if folded.isspace() else (PUNCT, "")
    if any(c.isalpha() for c in alphanumeric):
        return LETTER, "".join(c for c in alphanumeric if c.isalpha())
    digits = "".join(str(unicodedata.decimal(c, "")) for c in alphanumeric)
    # Numerals with no decimal value (Tamil ten "௰", Aegean numbers) read as
    # punctuation; Roman numerals have already decomposed to letters.
    return (DIGIT, digits) if digits else (PUNCT, "")
