"""A room's bans and timeouts over the REST API: its moderators only."""

import pytest
from django.urls import reverse

from moderation import services

pytestmark = pytest.mark.django_db(transaction=True)  # cache writes happen on commit


def restrictions_url(room) -> str:
    return reverse("api-room-restrictions", args=[room.slug])


def test_a_moderator_bans_lists_and_lifts_over_rest(client, alice_room, carol, bob):
    client.force_login(carol)
    made = client.post(
        restrictions_url(alice_room), {"user_id": bob.pk, "kind": "ban", "reason": "spam"}
    )
    assert made.status_code == 201 and made.json()["kind"] == "ban"
    assert services.is_restricted(bob.pk, alice_room.pk)
    listed = client.get(restrictions_url(alice_room)).json()
    assert [(r["user"], r["kind"]) for r in listed] == [("bob", "ban")]
    lift_url = reverse("api-room-restriction", args=[alice_room.slug, bob.pk])
    assert client.delete(lift_url).status_code == 204
    assert not services.is_restricted(bob.pk, alice_room.pk)
    assert client.delete(lift_url).status_code == 404


def test_a_timeout_over_rest_takes_minutes(client, alice_room, carol, bob):
    client.force_login(carol)
    body = {"user_id": bob.pk, "kind": "timeout", "minutes": 15}
    made = client.post(restrictions_url(alice_room), body).json()
    assert made["expires_at"] is not None


def test_a_viewer_and_another_rooms_moderator_are_refused(
    client, erin_room, alice_room, bob, carol
):
    client.force_login(carol)  # moderates alice's room, not erin's
    refused = client.post(restrictions_url(erin_room), {"user_id": bob.pk, "kind": "ban"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"
    assert client.get(restrictions_url(erin_room)).status_code == 403
    client.force_login(bob)
    assert (
        client.post(restrictions_url(alice_room), {"user_id": carol.pk, "kind": "ban"}).status_code
        == 403
    )
    assert not services.is_restricted(carol.pk, alice_room.pk)


def test_rest_needs_an_account(client, alice_room, bob):
    response = client.post(restrictions_url(alice_room), {"user_id": bob.pk, "kind": "ban"})
    assert response.status_code == 401
