"""Go-live emails: only to those who asked, once, with a link that unsubscribes."""

import pytest
from django.urls import reverse

from notifications import services
from notifications.models import EmailChoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def erin_wants_emails(erin):
    services.set_go_live_emails(erin.pk, True)
    return erin


def test_a_follower_who_asked_gets_an_email(erin_wants_emails, alice_room, go_live, outbox):
    go_live()
    [email] = outbox
    assert email.to == ["erin@example.com"]
    assert alice_room.title in email.subject
    assert "/rooms/alices-room/" in email.body


def test_go_live_emails_are_off_until_asked_for(erin, go_live, outbox):
    go_live()
    assert outbox == []


def test_an_email_carries_a_one_click_unsubscribe(erin_wants_emails, go_live, outbox, settings):
    go_live()
    [email] = outbox
    link = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith(settings.SITE_URL + "/notifications/unsubscribe/")
    assert link in email.body
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_repeated_email_task_sends_nothing_twice(erin_wants_emails, go_live, outbox):
    stream = go_live()
    assert services.send_go_live_emails(stream.pk, [erin_wants_emails.pk]) == 0
    assert len(outbox) == 1


def _unsubscribe_path(user) -> str:
    return reverse("notifications:unsubscribe", args=[services.unsubscribe_token(user.pk)])


def test_opening_the_unsubscribe_link_changes_nothing_until_the_button(client, erin_wants_emails):
    """Mail scanners follow every link: a GET must not unsubscribe."""
    response = client.get(_unsubscribe_path(erin_wants_emails))
    assert response.status_code == 200
    assert b"Unsubscribe from go-live emails" in response.content
    assert services.wants_go_live_emails(erin_wants_emails)


def test_the_unsubscribe_button_works_without_signing_in(client, erin_wants_emails):
    response = client.post(_unsubscribe_path(erin_wants_emails))
    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    assert not services.wants_go_live_emails(erin_wants_emails)


def test_a_mail_clients_one_click_post_needs_no_csrf_token(erin_wants_emails):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_unsubscribe_path(erin_wants_emails), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not services.wants_go_live_emails(erin_wants_emails)


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "' OR 1=1 --",
        "ünïcødé-🙂",
        "x" * 5000,
        "MQ:1tK4aB:forged-signature",
    ],
)
def test_a_bad_unsubscribe_link_is_refused_and_changes_nothing(client, erin_wants_emails, token):
    response = client.post(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 404
    assert EmailChoice.objects.get(user=erin_wants_emails).go_live


def test_a_link_for_one_user_cannot_be_turned_into_anothers(client, erin_wants_emails, bob):
    services.set_go_live_emails(bob.pk, True)
    token = services.unsubscribe_token(erin_wants_emails.pk)
    _payload, rest = token.split(":", 1)
    forged = services.unsubscribe_token(bob.pk).split(":", 1)[0] + ":" + rest
    response = client.post(f"/notifications/unsubscribe/{forged}/")
    assert response.status_code == 404
    assert services.wants_go_live_emails(bob)


def test_a_signed_in_user_turns_emails_on_and_off(client, bob, password):
    client.login(username="bob", password=password)
    client.post(reverse("notifications:email"), {"go_live": "on"})
    assert services.wants_go_live_emails(bob)
    client.post(reverse("notifications:email"), {})
    assert not services.wants_go_live_emails(bob)
