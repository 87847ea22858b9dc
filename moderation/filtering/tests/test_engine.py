"""The filter as the chat consumer sees it: verdicts, reasons, combining filters."""

import dataclasses
import pickle

import pytest

from moderation.filtering import (
    BlockedTerm,
    ChatFilter,
    FloodLimits,
    LinkPolicy,
    compile_filter,
)


def test_clean_message_is_allowed_untouched(family_room):
    verdict = family_room.check("great stream, see you tomorrow!")

    assert verdict.action == "allow"
    assert verdict.text == "great stream, see you tomorrow!"
    assert verdict.reasons == ()


def test_hold_beats_mask_and_the_held_text_is_already_masked(family_room):
    verdict = family_room.check("shit, you idiot")

    assert verdict.action == "hold"
    assert verdict.text == "****, you idiot"
    assert [reason.action for reason in verdict.reasons] == ["hold", "mask"]


def test_block_beats_hold(family_room):
    assert family_room.check("kill yourself").action == "block"


def test_reasons_never_name_the_blocked_term(family_room, family_room_terms):
    verdict = family_room.check("fuck this cunt, kill him, idiot")

    assert {reason.code for reason in verdict.reasons} == {"blocked_term"}
    for reason in verdict.reasons:
        for term in family_room_terms:
            assert term.term not in reason.message.lower()


def test_reasons_point_at_the_senders_own_words(family_room):
    text = "ok f.u.c.k and sh1t"
    verdict = family_room.check(text)

    (reason,) = verdict.reasons
    assert [text[start:end] for start, end in reason.spans] == ["f.u.c.k", "sh1t"]


def test_reasons_name_each_kind_of_rule():
    room = compile_filter(
        [BlockedTerm("spoiler", "hold")],
        LinkPolicy("block_all"),
        FloodLimits(max_emoji=1),
    )

    verdict = room.check("SPOILER at example.com \U0001f602\U0001f602")

    assert [reason.code for reason in verdict.reasons] == ["link", "emoji", "blocked_term"]
    assert verdict.reasons[0].message == (
        "Your message has a link, and links aren't allowed here, so it wasn't sent."
    )


def test_merge_applies_site_rules_and_room_rules_without_recompiling():
    site = compile_filter([BlockedTerm("cunt", "block")], LinkPolicy("block_all", action="hold"))
    room = compile_filter([BlockedTerm("spoiler", "mask")], flood_limits=FloodLimits(max_emoji=1))

    both = site.merge(room)

    assert both.term_matchers == site.term_matchers + room.term_matchers
    assert both.check("no spoiler please").text == "no ******* please"
    assert both.check("you cunt").action == "block"
    assert both.check("see example.com").action == "hold"
    assert both.check("\U0001f602\U0001f602").action == "block"


def test_merged_link_policies_must_all_allow_a_link():
    site = compile_filter(link_policy=LinkPolicy("allow_list", {"youtube.com", "twitch.tv"}))
    room = compile_filter(link_policy=LinkPolicy("allow_list", {"youtube.com"}))

    both = site.merge(room)

    assert both.check("youtube.com/watch").action == "allow"
    assert both.check("twitch.tv/x").action == "block"


def test_filter_survives_pickling_for_the_django_cache(family_room):
    restored = pickle.loads(pickle.dumps(family_room))  # noqa: S301 -- our own object

    assert isinstance(restored, ChatFilter)
    assert restored.check("what the fuuuck").text == "what the ******"
    assert restored.check("hello there").action == "allow"


def test_filter_and_verdict_are_immutable(family_room):
    verdict = family_room.check("hello")

    with pytest.raises(dataclasses.FrozenInstanceError):
        family_room.term_matchers = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.action = "block"


def test_empty_filter_allows_everything():
    assert compile_filter().check("fuck https://example.com AAAAAAAAAAAAAAAA").action == "allow"


def test_check_refuses_bytes(family_room):
    with pytest.raises(TypeError):
        family_room.check(b"hello")
