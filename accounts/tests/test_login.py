from django.urls import reverse

LOGIN = reverse("accounts:login")


def log_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_it_logs_in_with_the_right_password(client, bob, password):
    response = log_in(client, "bob", password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client, bob):
    wrong_password = log_in(client, "bob", "nope").content.decode()
    unknown_name = log_in(client, "nobody", "nope").content.decode()
    message = "That user name and password do not match an account."
    assert message in wrong_password and message in unknown_name
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_out_even_the_right_password(client, bob, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        log_in(client, "bob", "wrong")
    response = log_in(client, "bob", password)
    assert response.status_code == 200
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_clears_earlier_failures(client, bob, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    log_in(client, "bob", "wrong")
    log_in(client, "bob", "wrong")
    assert log_in(client, "bob", password).status_code == 302
    client.logout()
    log_in(client, "bob", "wrong")
    log_in(client, "bob", "wrong")
    assert log_in(client, "bob", password).status_code == 302


def test_one_address_failing_across_names_is_limited(client, db, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 4
    for n in range(4):
        log_in(client, f"guess{n}", "wrong")
    assert "Too many attempts" in log_in(client, "guess9", "wrong").content.decode()


def test_log_out_needs_a_post_and_ends_the_session(client, bob):
    client.force_login(bob)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_log_out_is_csrf_protected(bob):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    assert client.post(reverse("accounts:logout")).status_code == 403
