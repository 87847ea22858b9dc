"""Hostile messages: the filter's cost must grow linearly with the message, never worse.

Each hostile message is checked at 10 KB and 100 KB. Two measures compare them:

* Python operations, counted with ``sys.settrace`` (every line and call executed):
  deterministic, so a quadratic loop in our code shows as a 100x ratio, not 10x.
* CPU time, best of three, compared between the two sizes (never against a fixed
  limit): this catches what tracing cannot see, such as a regular expression
  backtracking inside the C engine.
"""

import gc
import sys
import time

import pytest

from moderation.filtering import BlockedTerm, FloodLimits, LinkPolicy, compile_filter

SMALL = 10_000
LARGE = 100_000

HOSTILE_PATTERNS = {
    "combining-marks": "a\u0301",
    "only-combining-marks": "\u0301",
    "zero-width-spaces": "\u200b",
    "zero-width-joiners-between-letters": "f\u200d",
    "single-letters-spaced": "f ",
    "single-letters-dotted": "f.",
    "letter-pairs-dotted": "fu.",
    "dots": ".",
    "exclamation-marks": "!",
    "letters-and-exclamation-marks": "a!",
    "at-signs": "@",
    "dollars-between-letters": "$a",
    "ones-between-letters": "1i",
    "repeated-letter": "u",
    "blocked-word-repeated": "fuck",
    "almost-a-blocked-word": "fuc",
    "bracketed-dots": "a[.]",
    "domain-like": "a.com",
    "many-dotted-words": "a.b ",
    "many-sentences": "x. ",
    "many-subdomains-of-an-allowed-domain": "a.example.com.",
    "scheme-like": "a://",
    "spaced-dot-word": "a dot ",
    "emoji-with-joiners": "\U0001f469\u200d",
    "regional-indicators": "\U0001f1e6",
    "skin-tones": "\U0001f3fd",
    "capital-letters": "AB",
    "literal-term-prefix": "(a+)+",
}


@pytest.fixture(scope="module")
def strict_room():
    return compile_filter(
        [
            BlockedTerm("fuck", "mask", whole_word=False),
            BlockedTerm("fuckfuck", "block", whole_word=True),
            BlockedTerm("kill", "hold"),
            BlockedTerm("(a+)+$", "block", whole_word=False),
        ],
        LinkPolicy("allow_list", {"example.com"}),
        FloodLimits(),
    )


def message(pattern, size):
    return (pattern * (size // len(pattern) + 1))[:size]


@pytest.mark.parametrize("pattern", HOSTILE_PATTERNS.values(), ids=HOSTILE_PATTERNS.keys())
def test_python_work_grows_linearly(strict_room, pattern):
    small = count_operations(strict_room.check, message(pattern, SMALL))
    large = count_operations(strict_room.check, message(pattern, LARGE))

    assert large <= 13 * small + 1_000


@pytest.mark.parametrize("pattern", HOSTILE_PATTERNS.values(), ids=HOSTILE_PATTERNS.keys())
def test_cpu_time_grows_linearly(strict_room, pattern):
    small = best_cpu_seconds(strict_room.check, message(pattern, SMALL), repeats=5)
    large = best_cpu_seconds(strict_room.check, message(pattern, LARGE), repeats=3)

    # Linear work is ~10x; quadratic would be ~100x. The slack absorbs noise,
    # allocator and garbage-collector effects on a busy machine.
    assert large <= 30 * max(small, 1e-4)


def test_hundred_kilobytes_of_combining_marks_do_not_hide_a_word():
    room = compile_filter([BlockedTerm("fuck", "mask", whole_word=False)])

    verdict = room.check("f" + "\u0301" * LARGE + "uck")

    assert verdict.action == "mask"
    assert verdict.text == "****"


def test_ten_thousand_zero_width_characters_do_not_hide_a_word():
    room = compile_filter([BlockedTerm("kill", "hold")])

    assert room.check("k" + "\u200b" * 10_000 + "ill").action == "hold"


def test_a_wall_of_invisible_characters_is_flooding(strict_room):
    verdict = strict_room.check("hi" + "\u200b" * 10_000)

    assert [reason.code for reason in verdict.reasons] == ["repeated_characters"]


def count_operations(function, argument):
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function(argument)
    finally:
        sys.settrace(previous)
    return count


def best_cpu_seconds(function, argument, repeats):
    """The fastest of several runs, with the garbage collector paused (less noise)."""
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.process_time()
            function(argument)
            best = min(best, time.process_time() - started)
    finally:
        if collecting:
            gc.enable()
    return best
