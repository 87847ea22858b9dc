"""A changed password or a deactivated account ends the sessions apps hold (JWT tokens)."""

from django.urls import reverse
from rest_framework.test import APIClient

from conftest import PASSWORD


def tokens_of(username: str) -> dict:
    answer = APIClient().post(
        reverse("api-token"), {"username": username, "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200
    return answer.json()


def refresh(tokens: dict) -> int:
    return (
        APIClient()
        .post(reverse("api-token-refresh"), {"refresh": tokens["refresh"]}, format="json")
        .status_code
    )


def me_with(tokens: dict) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client.get(reverse("api-me")).status_code


def test_a_password_change_ends_every_token(client, bob):
    tokens = tokens_of("bob")
    client.force_login(bob)
    changed = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new long secret 42",
            "new_password2": "a new long secret 42",
        },
    )
    assert changed.status_code == 302
    assert refresh(tokens) == 401
    assert me_with(tokens) == 401


def test_a_deactivated_account_stays_signed_out_after_it_is_reactivated(bob):
    tokens = tokens_of("bob")
    bob.is_active = False
    bob.save()
    assert refresh(tokens) == 401
    assert me_with(tokens) == 401
    bob.is_active = True
    bob.save()
    assert refresh(tokens) == 401  # its refresh token died with the deactivation


def test_other_changes_keep_the_tokens(bob):
    tokens = tokens_of("bob")
    bob.display_name = "Bobby"
    bob.save()
    assert refresh(tokens) == 200
    assert me_with(tokens) == 200
