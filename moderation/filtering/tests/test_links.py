# ruff: noqa: RUF001, RUF003 -- look-alike letters are what these tests send.
"""Links: every way of writing one, allow-lists with subdomains, and look-alike hosts."""

import pytest

from moderation.filtering import InvalidRule, LinkPolicy, compile_filter

LINK_FORMS = [
    pytest.param("https://example.com", id="https"),
    pytest.param("http://example.com/watch?v=1#t=3", id="http-with-path-query-fragment"),
    pytest.param("HTTPS://EXAMPLE.COM", id="capitals"),
    pytest.param("ftp://files.example.net", id="other-scheme"),
    pytest.param("http://localhost:8000/admin", id="scheme-without-tld"),
    pytest.param("example.com/x", id="bare-domain-with-path"),
    pytest.param("example.com", id="bare-domain"),
    pytest.param("shop.example.co.uk", id="bare-subdomain"),
    pytest.param("www.example.org", id="www"),
    pytest.param("(see example.io)", id="in-brackets"),
    pytest.param("example[.]com", id="bracketed-dot"),
    pytest.param("example(.)com", id="parenthesised-dot"),
    pytest.param("example[dot]com/x", id="bracketed-dot-word"),
    pytest.param("example dot com", id="spaced-dot-word"),
    pytest.param("example (dot) com", id="spaced-parenthesised-dot-word"),
    pytest.param("ｅｘａｍｐｌｅ．ｃｏｍ", id="fullwidth"),
    pytest.param("example。com", id="ideographic-full-stop"),
    pytest.param("exa\u200bmple.c\u200bom", id="zero-width-inside"),
    pytest.param("mail me: bob@example.com", id="email"),
    pytest.param("//example.com/x", id="scheme-relative"),
    pytest.param("bit.ly/3abc", id="shortener"),
    pytest.param("youtu.be/dQw4w9WgXcQ", id="word-like-tld-with-path"),
    pytest.param("evil.сом/x", id="look-alike-tld"),
]

NOT_LINKS = [
    pytest.param("e.g. this one", id="abbreviation"),
    pytest.param("pi is 3.14", id="decimal"),
    pytest.param("version 1.2.3 is out", id="version"),
    pytest.param("ok.so what now", id="word-like-tld"),
    pytest.param("lol.no way", id="word-like-country-code"),
    pytest.param("hello.world", id="word-like-generic-tld"),
    pytest.param("send me file.txt", id="file-name"),
    pytest.param("wait... what", id="ellipsis"),
    pytest.param("polka dot dress", id="dot-word"),
]


@pytest.fixture(scope="module")
def no_links_room():
    return compile_filter(link_policy=LinkPolicy("block_all"))


@pytest.fixture(scope="module")
def youtube_only_room():
    return compile_filter(link_policy=LinkPolicy("allow_list", {"youtube.com", "twitch.tv"}))


@pytest.mark.parametrize("message", LINK_FORMS)
def test_every_form_of_link_is_blocked_in_a_no_links_room(no_links_room, message):
    verdict = no_links_room.check(message)

    assert verdict.action == "block"
    assert verdict.reasons[0].code == "link"


@pytest.mark.parametrize("message", NOT_LINKS)
def test_ordinary_dots_are_not_links(no_links_room, message):
    assert no_links_room.check(message).action == "allow"


@pytest.mark.parametrize(
    "message",
    [
        "youtube.com/watch?v=1",
        "https://www.youtube.com/watch?v=1",
        "https://m.youtube.com/shorts/x",
        "music.youtube.com",
        "youtube[.]com/watch",
        "YOUTUBE.COM/live",
        "twitch.tv/somebody",
    ],
)
def test_allow_list_accepts_its_domains_and_their_subdomains(youtube_only_room, message):
    assert youtube_only_room.check(f"look {message}").action == "allow"


@pytest.mark.parametrize(
    "message",
    [
        "https://evil.com",
        "notyoutube.com/watch",
        "youtube.com.evil.io/watch",
        "https://youtube.com@evil.io/x",
        "yоutube.com/watch",  # Cyrillic о
        "youtube.co/watch",
    ],
)
def test_allow_list_refuses_other_and_look_alike_domains(youtube_only_room, message):
    verdict = youtube_only_room.check(f"look {message}")

    assert verdict.action == "block"
    assert "site" in verdict.reasons[0].message


def test_masked_link_stars_only_the_link():
    room = compile_filter(link_policy=LinkPolicy("block_all", action="mask"))

    verdict = room.check("free skins at example[.]com/skins! hurry")

    assert verdict.action == "mask"
    assert verdict.text == "free skins at " + "*" * len("example[.]com/skins") + "! hurry"


def test_held_link_waits_for_a_moderator():
    room = compile_filter(link_policy=LinkPolicy("block_all", action="hold"))

    verdict = room.check("my clip: https://clips.example.com/abc")

    assert verdict.action == "hold"
    assert verdict.text == "my clip: https://clips.example.com/abc"


def test_allow_all_rooms_accept_links():
    room = compile_filter(link_policy=LinkPolicy("allow_all"))

    assert room.check("https://example.com").action == "allow"


def test_allowed_domains_are_written_loosely():
    policy = LinkPolicy("allow_list", ["https://www.YouTube.com/", " twitch.tv "])

    assert policy.allowed_domains == frozenset({"youtube.com", "twitch.tv"})


@pytest.mark.parametrize(
    "policy",
    [
        {"mode": "allow_some"},
        {"mode": "allow_list", "allowed_domains": "youtube.com"},
        {"mode": "allow_list", "allowed_domains": ["   "]},
        {"mode": "block_all", "action": "delete"},
    ],
)
def test_bad_link_policies_are_refused(policy):
    with pytest.raises(InvalidRule):
        LinkPolicy(**policy)
