from django.urls import reverse

from accounts.models import User


def sign_up(client, **fields):
    data = {
        "username": "erin",
        "email": "erin@example.com",
        "password1": "a long pass phrase 42",
        "password2": "a long pass phrase 42",
        **fields,
    }
    return client.post(reverse("accounts:signup"), data)


def test_it_creates_a_viewer_and_logs_them_in(client, db):
    response = sign_up(client)
    assert response.status_code == 302
    assert response.url == reverse("accounts:dashboard")
    user = User.objects.get(username="erin")
    assert not user.is_broadcaster and not user.is_staff
    assert client.get(reverse("accounts:dashboard")).context["user"] == user


def test_a_taken_name_shows_an_error_and_creates_nothing(client, bob):
    response = sign_up(client, username="BOB", email="other@example.com")
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_a_bad_email_shows_an_error_and_creates_nothing(client, db):
    response = sign_up(client, email="not-an-email")
    assert response.status_code == 400
    assert "valid email" in response.content.decode()
    assert not User.objects.exists()


def test_a_taken_email_shows_an_error(client, bob):
    response = sign_up(client, email="BOB@example.com")
    assert response.status_code == 400
    assert User.objects.count() == 1


def test_mismatched_passwords_create_nothing(client, db):
    response = sign_up(client, password2="something else 42")
    assert response.status_code == 400
    assert not User.objects.exists()


def test_a_name_with_html_is_refused_not_rendered(client, db):
    response = sign_up(client, username="<script>alert(1)</script>")
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not User.objects.exists()


def test_many_signups_from_one_address_are_limited(client, db, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = 2
    for n in range(2):
        assert sign_up(client, username=f"user{n}", email=f"u{n}@example.com").status_code == 302
        client.logout()
    response = sign_up(client, username="user3", email="u3@example.com")
    assert response.status_code == 400
    assert "Too many attempts" in response.content.decode()
    assert User.objects.count() == 2
