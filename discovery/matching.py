"""Which rooms match a query: MariaDB/MySQL FULLTEXT where it serves, LIKE elsewhere.

A query is cut to words first (`words_of`): letters and digits only, so nothing a
visitor types reaches the database as syntax — not SQL (every value is a bound
parameter anyway), not FULLTEXT boolean operators (`+ - * " ( ) < > ~ @`), not LIKE
wildcards (Django escapes them). Every word must match the room's title, tags or
category, or its broadcaster's name; each word is a prefix (`spee` finds "speedrun").

On MySQL a word goes through the FULLTEXT index on (title, tags, category)
(rooms migration 0009) when InnoDB can answer it: at least
`innodb_ft_min_token_size` (3) characters and not one of InnoDB's default stopwords,
which FULLTEXT never finds. Shorter words, stopwords and every word on SQLite use
`icontains`. We do not use SQLite's FTS5: it needs a shadow table kept in step by
triggers, and SQLite is only the one-machine embedded default, with few rooms.
"""

import re
import unicodedata

from django.db import connection
from django.db.models import Case, Q, When
from django.db.models.expressions import RawSQL

from rooms.models import Room

MAX_QUERY_CHARS = 100
MAX_WORDS = 6
MAX_WORD_CHARS = 40
FULLTEXT_MIN_CHARS = 3
# INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD: FULLTEXT matches none of these.
INNODB_STOPWORDS = frozenset({
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from",
    "how", "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to",
    "was", "what", "when", "where", "who", "will", "with", "und", "www",
})  # fmt: skip
_WORD = re.compile(r"[^\W_]+")
_FULLTEXT = (
    "SELECT id FROM rooms_room WHERE MATCH (title, tags, category) AGAINST (%s IN BOOLEAN MODE)"
)


def words_of(query: str) -> list[str]:
    """The distinct lower-case words of `query` that a search uses (at most MAX_WORDS).
    Stopwords ("the", "with") are left out unless the query has nothing else: "the
    night" finds "Speedrun Night" as people expect."""
    text = unicodedata.normalize("NFKC", str(query)[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS]
    words = []
    for word in _WORD.findall(text.lower()):
        word = word[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    meaningful = [word for word in words if word not in INNODB_STOPWORDS]
    return (meaningful or words)[:MAX_WORDS]


def _uses_fulltext(word: str) -> bool:
    return (
        connection.vendor == "mysql"
        and len(word) >= FULLTEXT_MIN_CHARS
        and word not in INNODB_STOPWORDS
    )


def _word_matches(word: str) -> Q:
    owner = Q(owner__username__icontains=word) | Q(owner__display_name__icontains=word)
    if _uses_fulltext(word):
        # S611: the word is a bound parameter, and only letters and digits (words_of).
        return owner | Q(pk__in=RawSQL(_FULLTEXT, [f"{word}*"]))  # noqa: S611
    return owner | Q(title__icontains=word) | Q(tags__icontains=word) | Q(category__icontains=word)


def matching_rooms(words: list[str], limit: int):
    """Rooms matching every word, live first, then most recently changed; owner loaded."""
    if not words:
        return Room.objects.none()
    condition = Q()
    for word in words:
        condition &= _word_matches(word)
    rooms = Room.objects.select_related("owner", "current_stream").filter(condition)
    live_first = Case(When(status=Room.Status.LIVE, then=0), default=1)
    return rooms.order_by(live_first, "-updated_at")[:limit]
