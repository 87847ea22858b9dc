"""Measures of flooding in a chat message: capitals, emoji and repeated characters.

Emoji are counted the way a viewer sees them: a ZWJ sequence (👩‍👩‍👧), a skin-tone
variant (👍🏽), a flag (two regional indicators), a keycap (1️⃣) or a tag sequence
(🏴 England) is one emoji. The ranges below approximate Unicode's
Extended_Pictographic property, which the standard library does not expose; a
few rarely used pictographs may be missed, which only makes the limit laxer.
"""

import re

_ZWJ = 0x200D
_KEYCAP = 0x20E3
_VARIATION_SELECTORS = (0xFE0E, 0xFE0F)
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_NON_ASCII_RUNS = re.compile(r"[^\x00-\x7f]+")

_PICTOGRAPHIC_RANGES = (
    range(0x1F000, 0x1FB00),
    range(0x2600, 0x27C0),
    range(0x2300, 0x2400),
    range(0x2B00, 0x2C00),
    range(0x2194, 0x219A),
    range(0x21A9, 0x21AB),
)
_PICTOGRAPHIC_SINGLES = frozenset(
    [0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x25AA, 0x25AB, 0x25B6, 0x25C0, 0x3030, 0x303D]
) | frozenset([0x3297, 0x3299, 0x2934, 0x2935, *range(0x25FB, 0x25FF)])
# Text-style symbols that are emoji only when a variation selector asks for them.
_EMOJI_IF_SELECTED = frozenset([0x00A9, 0x00AE])


def too_many_capitals(text: str, max_ratio: float, min_letters: int) -> bool:
    """Whether capitals exceed ``max_ratio`` of the letters, given enough letters."""
    capitals = sum(map(str.isupper, text))
    # Most messages have a capital or two: too few to reach the ratio, whatever the
    # number of letters, so the letters need not be counted.
    if capitals <= max_ratio * min_letters:
        return False
    letters = sum(map(str.isalpha, text))
    return letters >= min_letters and capitals > max_ratio * letters


def count_emoji(text: str) -> int:
    """The number of emoji a viewer would see."""
    if text.isascii():
        return 0
    # Every keycap sequence ("1️⃣") ends in one combining keycap mark.
    count = text.count(chr(_KEYCAP))
    # Emoji are never ASCII, so only the non-ASCII runs need a close look.
    for run in _NON_ASCII_RUNS.findall(text):
        count += _count_in_run(run)
    return count


def has_repeated_run(text: str, longest_allowed: int) -> bool:
    """Whether any visible character repeats more than ``longest_allowed`` times in a row."""
    return _repeat_pattern(longest_allowed).search(text) is not None


_repeat_patterns: dict[int, re.Pattern] = {}


def _repeat_pattern(longest_allowed: int) -> re.Pattern:
    # Linear: a start position fails after at most ``longest_allowed`` steps.
    pattern = _repeat_patterns.get(longest_allowed)
    if pattern is None:
        pattern = re.compile(rf"(\S)\1{{{longest_allowed}}}")
        _repeat_patterns[longest_allowed] = pattern
    return pattern


def _count_in_run(run: str) -> int:
    count = 0
    index = 0
    length = len(run)
    while index < length:
        size = _emoji_size(run, index, length)
        if size:
            count += 1
            index += size
        else:
            index += 1
    return count


def _emoji_size(text: str, index: int, length: int) -> int:
    """How many code points the emoji starting at ``index`` takes (0 if none)."""
    code = ord(text[index])
    if code in _REGIONAL_INDICATORS:
        paired = index + 1 < length and ord(text[index + 1]) in _REGIONAL_INDICATORS
        return 2 if paired else 1
    if code in _EMOJI_IF_SELECTED:
        selected = index + 1 < length and ord(text[index + 1]) in _VARIATION_SELECTORS
        return 2 if selected else 0
    if not _is_pictographic(code):
        return 0
    end = index + 1
    while end < length:
        code = ord(text[end])
        if code in _VARIATION_SELECTORS or code in _SKIN_TONES or code in _TAGS:
            end += 1
        elif code == _ZWJ and end + 1 < length and _is_pictographic(ord(text[end + 1])):
            end += 2
        else:
            break
    return end - index


def _is_pictographic(code: int) -> bool:
    if code in _PICTOGRAPHIC_SINGLES:
        return True
    if code < 0x2194:
        return False
    return any(code in block for block in _PICTOGRAPHIC_RANGES)
