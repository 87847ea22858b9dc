# ruff: noqa: RUF001 -- look-alike letters are what these tests send.
"""Properties that must hold for any message, checked with generated input.

What masking guarantees: one ``*`` per visible code point of a masked span (combining
marks and format characters such as joiners inside it are removed), and nothing
outside masked spans changes. So the masked text has as many visible code points as
the original, which is what these tests check.

What "allow" guarantees: no substring term occurs in the message once both are
normalised, counting repeated letters as written (the term ``ass`` is in ``asss``
but not in ``as``).
"""

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.filtering import BlockedTerm, FloodLimits, LinkPolicy, compile_filter
from moderation.filtering import normalise as normalise_module
from moderation.filtering.characters import INVISIBLE, fold_character, folded_output
from moderation.filtering.literal import literal_text, literal_view
from moderation.filtering.normalise import normalise, normalised_text

TERMS = ("fuck", "shit", "ass", "kill", "bitch")
EVASION_ALPHABET = list("fuckshitabl ASKF1!$@3450|.-_,'\u200b\u200d\u0301\u00adßｆ𝐮сυ🇫😂👍🏽\n")

LOOKALIKES = {"a": "а", "c": "с", "i": "і", "s": "ѕ", "h": "һ", "u": "υ"}
SEPARATORS = ["", "", "", "\u200b", "\u200d", "\u0301", " ", ".", "-"]
FILLER = ["", " ", "the ", "class ", "as ", "hi ", "!", "@", "1", "ok. "]


@st.composite
def evaded_terms(draw):
    """A blocked term in disguise: case, look-alikes, repeats and separators."""
    pieces = []
    for letter in draw(st.sampled_from(TERMS)):
        letter = draw(st.sampled_from([letter, letter.upper(), LOOKALIKES.get(letter, letter)]))
        pieces.append(letter * draw(st.integers(1, 4)))
        pieces.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(pieces)


any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
evasive_text = st.text(st.sampled_from(EVASION_ALPHABET), max_size=60)
chat_like_text = st.lists(
    st.one_of(evaded_terms(), st.sampled_from(FILLER), st.sampled_from(EVASION_ALPHABET)),
    max_size=8,
).map("".join)
messages = st.one_of(any_text, evasive_text, chat_like_text)

SUBSTRING_FILTER = compile_filter([BlockedTerm(term, "block", whole_word=False) for term in TERMS])
MASKING_FILTER = compile_filter(
    [BlockedTerm(term, "mask", whole_word=whole) for term in TERMS for whole in (True, False)]
    + [BlockedTerm("c++", "mask"), BlockedTerm("🍆", "mask", whole_word=False)],
    LinkPolicy("block_all", action="mask"),
)
EVERYTHING_FILTER = MASKING_FILTER.merge(
    compile_filter(
        [BlockedTerm("(a+)+$", "hold"), BlockedTerm("idiot", "block")],
        LinkPolicy("allow_list", {"example.com"}),
        FloodLimits(max_emoji=3, max_repeated_chars=4),
    )
)

INVISIBLE_CATEGORIES = ("Mn", "Mc", "Me", "Cf", "Cc", "Co", "Cn")

# No example database: a run neither depends on nor writes earlier runs' failures.
generous = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@generous
@given(messages)
def test_check_never_raises_and_answers_with_a_known_action(text):
    verdict = EVERYTHING_FILTER.check(text)

    assert verdict.action in {"allow", "mask", "hold", "block"}
    assert (verdict.action == "allow") == (verdict.reasons == ())


@generous
@given(messages)
def test_allowed_message_contains_no_blocked_term(text):
    if SUBSTRING_FILTER.check(text).action != "allow":
        return
    message = _expanded(normalise(text))
    for term in TERMS:
        assert _expanded(normalise(term)) not in message


@generous
@given(messages)
def test_masking_keeps_the_visible_length_and_only_stars_masked_spans(text):
    verdict = MASKING_FILTER.check(text)
    spans = [span for reason in verdict.reasons for span in reason.spans]

    assert _visible_length(verdict.text) == _visible_length(text)
    outside = _outside(text, spans)
    assert _outside_of_masked(verdict.text, text, spans) == outside


@generous
@given(messages)
def test_fast_and_mapped_normalisation_agree(text):
    assert normalised_text(text) == normalise(text).text
    assert literal_text(text) == literal_view(text).text


@generous
@given(messages)
def test_quick_word_split_agrees_with_the_general_one(text):
    # normalise() splits words with one regex when no tokens join; the general
    # grouping must give the same answer for every message.
    folded, starts, ends = normalise_module._fold_with_origins(text)
    folded = normalise_module.resolve_symbols(folded)
    has_digits = any("0" <= ch <= "9" for ch in folded)
    words = normalise_module._words(folded)

    assert normalise(text) == normalise_module._collapsed(words, has_digits, starts, ends)


@generous
@given(st.one_of(messages, st.text(st.sampled_from(["\x1b", "a", "\u200b", "ß", " ", "ﬁ"]))))
def test_folded_spans_match_a_character_by_character_reading(text):
    assert normalise_module._fold_with_origins(text) == _fold_one_by_one(text)


@generous
@given(messages)
def test_collapsed_spans_match_a_letter_by_letter_reading(text):
    assert normalise(text) == _normalise_letter_by_letter(text)


@generous
@given(st.lists(st.sampled_from((*TERMS, "idiot", "spam", "c++")), max_size=4), messages)
def test_merging_filters_equals_compiling_their_rules_together(terms, text):
    site = compile_filter([BlockedTerm(term, "block") for term in terms[:2]])
    room = compile_filter([BlockedTerm(term, "mask") for term in terms[2:]])
    together = compile_filter(
        [BlockedTerm(term, "block") for term in terms[:2]]
        + [BlockedTerm(term, "mask") for term in terms[2:]]
    )

    assert site.merge(room).check(text) == together.check(text)


def _fold_one_by_one(text):
    """Reference for ``_fold_with_origins``: invisible characters extend the span before."""
    pieces, starts, ends = [], [], []
    for index, ch in enumerate(text):
        kind, output = fold_character(ch)
        if kind == INVISIBLE:
            if ends:
                ends[-1] = index + 1
            continue
        piece = folded_output(kind, output, ch)
        pieces.append(piece)
        starts.extend([index] * len(piece))
        ends.extend([index + 1] * len(piece))
    return "".join(pieces), starts, ends


def _normalise_letter_by_letter(text):
    """Reference for the collapsing in ``normalise``, one letter at a time."""
    module = normalise_module
    folded, origin_starts, origin_ends = module._fold_with_origins(text)
    folded = module.resolve_symbols(folded)
    has_digits = any("0" <= ch <= "9" for ch in folded)
    chars, starts, ends, runs, soft_starts, soft_ends = [], [], [], [], set(), set()
    for word in module._words(folded):
        spelled = module._spell(word, has_digits)
        positions = [offset + k for offset, token, _ in word for k in range(len(token))]
        if chars:
            chars.append(" ")
            starts.append(ends[-1])
            ends.append(origin_starts[positions[0]])
            runs.append(1)
        collapsed_index = []
        for index, char in enumerate(spelled):
            if index and spelled[index - 1] == char:
                runs[-1] += 1
                ends[-1] = origin_ends[positions[index]]
            else:
                chars.append(char)
                starts.append(origin_starts[positions[index]])
                ends.append(origin_ends[positions[index]])
                runs.append(1)
            collapsed_index.append(len(chars) - 1)
        letters = 0
        for _, token, soft in word:
            if soft:
                soft_starts.add(collapsed_index[letters])
                inside_run = spelled[letters - 1] == spelled[letters]
                soft_ends.add(collapsed_index[letters] + inside_run)
            letters += len(token)
    return module.NormalisedText(
        "".join(chars), starts, ends, runs, frozenset(soft_starts), frozenset(soft_ends)
    )


def _expanded(normalised):
    """The normalised text with each collapsed run written out again."""
    return "".join(char * run for char, run in zip(normalised.text, normalised.runs, strict=True))


def _is_visible(ch):
    """Whether a viewer sees the code point as a character (what masking stars)."""
    if ch.isspace():
        return True
    skin_tone = 0x1F3FB <= ord(ch) <= 0x1F3FF
    return not skin_tone and unicodedata.category(ch) not in INVISIBLE_CATEGORIES


def _visible_length(text):
    return sum(1 for ch in text if _is_visible(ch))


def _union(spans):
    """Overlapping spans merged, in order."""
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _outside(text, spans):
    """The text with masked spans cut out."""
    kept, position = [], 0
    for start, end in _union(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept)


def _outside_of_masked(masked, original, spans):
    """The same cut applied to the masked text, checking each span became stars."""
    kept, position, shift = [], 0, 0
    for start, end in _union(spans):
        kept.append(masked[position + shift : start + shift])
        stars = sum(1 for ch in original[start:end] if _is_visible(ch))
        assert masked[start + shift : start + shift + stars] == "*" * stars
        shift += stars - (end - start)
        position = end
    kept.append(masked[position + shift :])
    return "".join(kept)
