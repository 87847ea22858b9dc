"""The room moderation page, and the moderator tools the room page includes."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from moderation import services
from moderation.models import BlockedTermRule, RoomRules

pytestmark = pytest.mark.django_db


def rules_url(room, name="room_rules", *args) -> str:
    return reverse(f"moderation:{name}", args=[room.slug, *args])


def test_the_room_tools_show_the_rooms_state(alice_room, alice):
    services.set_slow_mode(alice, alice_room, 30)
    html = render_to_string("moderation/room_tools.html", {"room": alice_room})
    assert "data-moderation-tools" in html
    assert '<option value="30" selected>' in html
    assert 'aria-pressed="false"' in html
    assert "/static/moderation/moderation.css" in html
    assert "<script" not in html


def test_a_moderator_sets_the_rooms_rules_on_its_page(client, alice_room, carol):
    client.force_login(carol)
    assert client.get(rules_url(alice_room)).status_code == 200
    client.post(rules_url(alice_room, "add_term"), {"term": "spoiler", "action": "mask"})
    assert BlockedTermRule.objects.get().action == "mask"
    client.post(rules_url(alice_room, "followers_only"), {"on": "1"})
    assert RoomRules.objects.get(room=alice_room).followers_only
    page = client.get(rules_url(alice_room)).content.decode()
    assert "spoiler" in page and "only followers" in page


def test_a_bad_term_on_the_page_says_why(client, alice_room, carol):
    client.force_login(carol)
    page = client.post(rules_url(alice_room, "add_term"), {"term": "\u200b", "action": "block"})
    assert "nothing left to match" in client.get(page.url).content.decode()


def test_viewers_and_other_rooms_moderators_are_turned_away(client, alice_room, bob, erin):
    for user in (bob, erin):
        client.force_login(user)
        assert client.get(rules_url(alice_room)).status_code == 403
        response = client.post(rules_url(alice_room, "add_term"), {"term": "x", "action": "block"})
        assert response.status_code == 403
    assert not BlockedTermRule.objects.exists()
