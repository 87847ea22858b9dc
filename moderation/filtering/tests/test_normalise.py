# ruff: noqa: RUF001, RUF003 -- look-alike letters are what these tests send.
"""The normaliser on its own: what it reads a message as, and where each letter came from."""

import pytest

from moderation.filtering.normalise import normalise, normalised_text


@pytest.mark.parametrize(
    ("message", "reads_as"),
    [
        ("Hello THERE", "helo there"),
        ("ｈｅｌｌｏ", "helo"),
        ("crème brûlée", "creme brule"),
        ("рауpal", "paypal"),  # Cyrillic р, а, у
        ("ΑΙΡ", "aip"),  # Greek capitals
        ("ﬁne", "fine"),
        ("straße", "strase"),
        ("h3ll0 w0rld", "helo world"),
        ("2024 was 100% fun", "2024 was 10 fun"),
        ("@mod help", "mod help"),
        ("b@d a$$ sh!t", "bad as shit"),
        ("wow!!! ok", "wow ok"),
        ("f u c k", "fuck"),
        ("a b c d", "abcd"),
        ("u r a cat", "ura cat"),
        ("its hit", "its hit"),
        ("f.u.c.k", "fuck"),
        ("don't", "dont"),
        ("fu\u200b\u200bck", "fuck"),
        ("z\u0334\u0335a\u0336l\u0337g\u0338o", "zalgo"),
        ("k1ll", "k|l"),
    ],
)
def test_message_reads_as(message, reads_as):
    assert normalise(message).text == reads_as
    assert normalised_text(message) == reads_as


def test_each_letter_maps_back_to_what_the_sender_typed():
    message = "oh F\u200bu\u0301uuCK!"
    normalised = normalise(message)

    assert normalised.text == "oh fuck"
    spans = [
        message[start:end] for start, end in zip(normalised.starts, normalised.ends, strict=True)
    ]
    assert spans == ["o", "h", " ", "F\u200b", "u\u0301uu", "C", "K"]


def test_runs_remember_how_often_a_letter_was_repeated():
    normalised = normalise("fuuuuck off")

    assert normalised.text == "fuck of"
    assert normalised.runs == [1, 4, 1, 1, 1, 1, 2]


def test_punctuation_between_words_is_a_soft_boundary():
    normalised = normalise("nice.shit")

    assert normalised.text == "niceshit"
    assert normalised.starts_word(4) and normalised.ends_word(4)
    assert not normalised.starts_word(3) and not normalised.ends_word(3)


def test_soft_boundary_inside_a_collapsed_run_ends_the_first_word_after_the_run():
    normalised = normalise("shit.thing")

    assert normalised.text == "shithing"
    assert normalised.runs[3] == 2
    assert normalised.ends_word(4) and normalised.starts_word(3)
    assert not normalised.ends_word(3) and not normalised.starts_word(4)


def test_spelled_out_letters_have_no_inner_boundaries():
    normalised = normalise("s.c.u.n.t")

    assert normalised.text == "scunt"
    assert not normalised.starts_word(1)
