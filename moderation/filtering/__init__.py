"""The real-time chat filter: blocked terms, links and flooding, without Django.

Build a filter once from a room's rules with ``compile_filter`` and call
``ChatFilter.check(text)`` for every message; see ``engine.py`` for the flow,
``normalise.py`` for how evasions are undone, and ``rules.py`` for the rules.
"""

from moderation.filtering.engine import ChatFilter, Reason, Verdict, compile_filter
from moderation.filtering.rules import (
    BlockedTerm,
    FloodLimits,
    InvalidRule,
    LinkPolicy,
    blocked_terms,
)

__all__ = [
    "BlockedTerm",
    "ChatFilter",
    "FloodLimits",
    "InvalidRule",
    "LinkPolicy",
    "Reason",
    "Verdict",
    "blocked_terms",
    "compile_filter",
]
