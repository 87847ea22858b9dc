# ruff: noqa: RUF001, RUF002 -- look-alike characters are this module's subject.
"""Finding links in chat messages, including the ways people disguise them.

Recognised: scheme URLs (``https://…``, any ``scheme://``), ``www.`` hosts, bare
domains with a known top-level domain (``example.com/x``, see ``tlds.py``), e-mail
addresses, and dots written as ``[.]``, ``(.)``, ``{.}``, ``[dot]``, ``(dot)`` or
`` dot `` (the last only before a generic top-level domain such as ``com``).
Fullwidth and ideographic dots and slashes count as ASCII ones, invisible characters
inside a link are ignored, and look-alike letters in the top-level domain
(Cyrillic ``сом``) still mark a link.

The host is returned as typed (lower-cased, invisible characters removed), never
with look-alikes folded: ``yоutube.com`` with a Cyrillic ``о`` is a different site,
and the allow-list must not mistake it for YouTube.

Hand-written rather than one big URL regex, because a general URL pattern is
exactly where catastrophic backtracking hides; here the message is scanned once,
dot by dot, with ``str.find``, and each candidate word is parsed with linear string
operations.
"""

import unicodedata
from dataclasses import dataclass

from moderation.filtering.characters import BLANK_LOOKING, fold_letters
from moderation.filtering.tlds import TLDS, WORDLIKE_TLDS

_DOT_DISGUISES = ("[.]", "(.)", "{.}", "<.>", "[dot]", "(dot)", "{dot}", "<dot>")
_SPACED_DOTS = (" dot ", " (dot) ", " [dot] ", " {dot} ", " . ")
_EDGE_PUNCTUATION = "()[]{}<>\"'`.,;:!?*“”‘’«»"
_HOST_ENDS = "/?#\\"
_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+-.")
_INVISIBLE = "\x00"
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a message: its span in the original text and its host."""

    start: int
    end: int
    host: str


class _LinkTable(dict):
    """A one-character-for-one ``str.translate`` table, so offsets stay valid."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        mapped = _link_character(ch)
        if len(self) < _CACHE_LIMIT:
            self[code] = mapped
        return mapped


def _link_character(ch: str) -> str:
    if ch.isspace() or ch in BLANK_LOOKING:
        return " "
    if ch in "。｡．":
        return "."
    category = unicodedata.category(ch)
    if category in ("Cf", "Cc", "Cn", "Co") or ch in "\ufe0e\ufe0f":
        return _INVISIBLE
    compatible = unicodedata.normalize("NFKC", ch).lower()
    return compatible if len(compatible) == 1 else ch


_LINK_TABLE = _LinkTable()


def find_links(text: str) -> list[Link]:
    """Every link in ``text``, in order."""
    view = text.translate(_LINK_TABLE)
    if "." not in view and "://" not in view and "dot" not in view:
        return []
    links = _links_around_dots(view)
    if " " in view:
        links.extend(_links_with_spaced_dots(view, links))
        links.sort(key=lambda link: link.start)
    return links


def _links_around_dots(view: str) -> list[Link]:
    """Links in words that hold a dot, a ``://`` or a ``dot`` (as in ``a[dot]com``)."""
    links = []
    # Where each marker next occurs; a marker is searched for again only once the
    # scan has passed it, so each part of the view is searched once per marker.
    upcoming = {marker: view.find(marker) for marker in (".", "://", "dot")}
    position = 0
    while True:
        for marker, found in upcoming.items():
            if 0 <= found < position:
                upcoming[marker] = view.find(marker, position)
        found_markers = [found for found in upcoming.values() if found >= 0]
        if not found_markers:
            return links
        marker = min(found_markers)
        start = view.rfind(" ", 0, marker) + 1
        end = view.find(" ", marker)
        end = len(view) if end < 0 else end
        link = _parse_word(view[start:end], start)
        if link is not None:
            links.append(link)
        position = end


def _links_with_spaced_dots(view: str, found: list[Link]) -> list[Link]:
    """``example dot com``: a disguise spread over three words."""
    links = []
    taken = {(link.start, link.end) for link in found}
    for disguise in _SPACED_DOTS:
        position = view.find(disguise)
        while position >= 0:
            link = _parse_spaced(view, position, disguise)
            if link is not None and (link.start, link.end) not in taken:
                links.append(link)
                taken.add((link.start, link.end))
            position = view.find(disguise, position + len(disguise))
    return links


def _parse_spaced(view: str, position: int, disguise: str) -> Link | None:
    before_start = view.rfind(" ", 0, position) + 1
    after_start = position + len(disguise)
    after_end = view.find(" ", after_start)
    after_end = len(view) if after_end < 0 else after_end
    before = view[before_start:position].strip(_EDGE_PUNCTUATION)
    after = view[after_start:after_end]
    top_level = fold_letters(after.split("/")[0].strip(_EDGE_PUNCTUATION).replace(_INVISIBLE, ""))
    if not before or top_level not in TLDS or top_level in WORDLIKE_TLDS:
        return None
    link = _parse_word(f"{before}.{after}", before_start)
    if link is None:
        return None
    return Link(before_start, after_start + len(after.rstrip(_EDGE_PUNCTUATION)), link.host)


def _parse_word(word: str, offset: int) -> Link | None:
    """The link in one space-free word of the view, or ``None``."""
    stripped = word.lstrip(_EDGE_PUNCTUATION)
    start = offset + len(word) - len(stripped)
    stripped = stripped.rstrip(_EDGE_PUNCTUATION)
    end = start + len(stripped)
    host = _host(stripped)
    if host is None:
        return None
    scheme_start = _scheme_start(stripped)
    return Link(start + scheme_start, end, host)


def _host(word: str) -> str | None:
    word = word.replace(_INVISIBLE, "")
    if any(bracket in word for bracket in "[({<"):
        for disguise in _DOT_DISGUISES:
            word = word.replace(disguise, ".")
    before, separator, rest = word.partition("://")
    scheme = word[_scheme_start(word) : len(before)] if separator else ""
    has_scheme = scheme[:1].isalpha()
    if not separator:
        rest = word
    # "//evil.com" (a scheme-relative link) and "https:///evil.com" both reach a host.
    host, path_separator = _split_host(rest.lstrip("/"))
    is_email = "@" in host
    host = host.rpartition("@")[2].partition(":")[0].strip(".")
    labels = host.split(".")
    if not host or not all(_is_label(label) for label in labels):
        return None
    if has_scheme or (labels[0] == "www" and len(labels) >= 2):
        return host
    if len(labels) < 2:
        return None
    top_level = fold_letters(labels[-1])
    if top_level not in TLDS:
        return None
    if top_level in WORDLIKE_TLDS and not (path_separator or is_email):
        return None
    return host


def _scheme_start(word: str) -> int:
    """Where the scheme of the word's ``://`` begins (0 when there is none).

    In ``link:https://x`` the scheme is the last run of scheme characters before
    ``://``, so the link starts at ``https``.
    """
    end = word.find("://")
    for index in range(end - 1, -1, -1):
        if word[index] not in _SCHEME_CHARACTERS:
            return index + 1
    return 0


def _split_host(rest: str) -> tuple[str, bool]:
    cut = len(rest)
    for ch in _HOST_ENDS:
        found = rest.find(ch)
        if 0 <= found < cut:
            cut = found
    return rest[:cut], cut < len(rest)


def _is_label(label: str) -> bool:
    if not label:
        return False
    plain = label.replace("-", "").replace("_", "")
    if plain.isalnum():
        return True
    # Internationalised labels may carry combining marks; anything else is not a host.
    return all(ch.isalnum() or unicodedata.category(ch).startswith("M") for ch in plain)
