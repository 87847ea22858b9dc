"""Shared filters for the chat filter tests: the rules of a typical family-friendly room."""

import pytest

from moderation.filtering import BlockedTerm, compile_filter


@pytest.fixture(scope="session")
def family_room_terms():
    """Terms a moderator of a family-friendly stream might set up."""
    return (
        BlockedTerm("fuck", "mask", whole_word=False),
        BlockedTerm("shit", "mask", whole_word=False),
        BlockedTerm("ass", "mask", whole_word=True),
        BlockedTerm("cunt", "block", whole_word=True),
        BlockedTerm("kill yourself", "block", whole_word=True),
        BlockedTerm("kill", "hold", whole_word=True),
        BlockedTerm("idiot", "hold", whole_word=True),
    )


@pytest.fixture(scope="session")
def family_room(family_room_terms):
    return compile_filter(family_room_terms)
