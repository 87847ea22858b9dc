"""Flooding: shouting in capitals, walls of emoji and long runs of one character."""

import pytest

from moderation.filtering import FloodLimits, InvalidRule, compile_filter

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # woman, ZWJ, woman, ZWJ, girl
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"  # thumbs up + skin tone
BRAZIL = "\U0001f1e7\U0001f1f7"  # two regional indicators
KEYCAP_ONE = "1\ufe0f\u20e3"
HEART = "\u2764\ufe0f"  # heart + emoji presentation selector
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


@pytest.fixture(scope="module")
def calm_room():
    return compile_filter(
        flood_limits=FloodLimits(
            max_caps_ratio=0.7, min_letters_for_caps=10, max_emoji=3, max_repeated_chars=5
        )
    )


def test_shouting_is_blocked(calm_room):
    verdict = calm_room.check("WHY IS NOBODY LISTENING TO ME")

    assert verdict.action == "block"
    assert [reason.code for reason in verdict.reasons] == ["caps"]


@pytest.mark.parametrize("message", ["GG", "LOL WP", "Hello There Everyone, Nice To See You"])
def test_short_or_mostly_lowercase_messages_are_not_shouting(calm_room, message):
    assert calm_room.check(message).action == "allow"


def test_capitals_are_a_share_of_letters_not_of_all_characters(calm_room):
    assert calm_room.check("GOALS SCORED 12 34 56 78 90").action == "block"


@pytest.mark.parametrize(
    "emoji", [FAMILY, THUMBS_UP_MEDIUM, BRAZIL, KEYCAP_ONE, HEART, ENGLAND, "\U0001f602"]
)
def test_each_emoji_sequence_counts_once(calm_room, emoji):
    assert calm_room.check(f"wow {emoji * 3}").action == "allow"
    assert calm_room.check(f"wow {emoji * 4}").action == "block"


def test_emoji_wall_gives_an_emoji_reason(calm_room):
    verdict = calm_room.check("\U0001f525\U0001f602" * 5)

    assert [reason.code for reason in verdict.reasons] == ["emoji"]


def test_long_run_of_one_character_is_flooding(calm_room):
    assert calm_room.check("no way!!!!!").action == "allow"
    assert calm_room.check("no way!!!!!!").action == "block"
    assert calm_room.check("sooooooo good").action == "block"


def test_spaces_do_not_count_as_a_repeated_character(calm_room):
    assert calm_room.check("a          b").action == "allow"


def test_flood_can_hold_instead_of_block():
    room = compile_filter(flood_limits=FloodLimits(max_emoji=1, action="hold"))

    assert room.check("\U0001f602\U0001f602").action == "hold"


def test_none_switches_a_limit_off():
    room = compile_filter(
        flood_limits=FloodLimits(max_caps_ratio=None, max_emoji=None, max_repeated_chars=None)
    )

    assert room.check("AAAAAAAAAAAAAAAAAAAAAAAAA " + "\U0001f602" * 50).action == "allow"


@pytest.mark.parametrize(
    "limits",
    [
        {"action": "mask"},
        {"max_caps_ratio": 1.5},
        {"max_emoji": -1},
        {"max_repeated_chars": 0},
        {"min_letters_for_caps": True},
    ],
)
def test_bad_flood_limits_are_refused(limits):
    with pytest.raises(InvalidRule):
        FloodLimits(**limits)
