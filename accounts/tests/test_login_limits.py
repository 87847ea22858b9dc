"""Log-in limits per account: forged addresses cannot spread them, a delay grows but ends,
and parallel attempts cannot slip past them. The same limits guard /admin/login/ and /api/token/.
"""

import threading
import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services
from accounts.errors import TooManyAttempts

LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_DELAY_SECONDS = 30
    settings.LOGIN_DELAY_MAX_SECONDS = 120
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 1000


@pytest.fixture
def clock(monkeypatch):
    """The time the limiter sees, moved forward by the test."""
    now = [time.time()]
    monkeypatch.setattr(services.time, "time", lambda: now[0])
    return now


def log_in(client, password, address="198.51.100.1", **extra):
    data = {"username": "bob", "password": password}
    return client.post(LOGIN, data, REMOTE_ADDR=address, **extra)


def signed_in(client):
    return "_auth_user_id" in client.session


def test_twelve_addresses_cannot_spread_the_failures_of_one_account(client, bob, password):
    for n in range(12):
        log_in(client, "wrong", address=f"198.51.100.{n + 1}")
    response = log_in(client, password, address="198.51.100.99")
    assert "Too many attempts" in response.content.decode()
    assert not signed_in(client)


def test_forged_forwarded_headers_from_an_untrusted_peer_do_not_help(client, bob, password):
    for n in range(12):
        log_in(client, "wrong", address="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    log_in(client, password, address="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.99")
    assert not signed_in(client)


def test_the_delay_ends_and_the_owner_signs_in(client, bob, password, clock):
    for _ in range(3):
        log_in(client, "wrong")
    assert "Try again in 30 second(s)" in log_in(client, password).content.decode()
    clock[0] += 31
    assert log_in(client, password).status_code == 302
    assert signed_in(client)


def test_each_further_failure_doubles_the_delay_up_to_the_cap(bob, clock):
    waits = []
    for _ in range(8):
        try:
            services.log_in(None, "bob", "wrong", "198.51.100.1")
        except TooManyAttempts as refused:
            waits.append(refused.retry_after_seconds)
            clock[0] += refused.retry_after_seconds + 1
            services.log_in(None, "bob", "wrong", "198.51.100.1")  # the one try per delay
    assert waits == [30, 60, 120, 120, 120]


def test_only_one_try_per_delay(client, bob, password, clock):
    for _ in range(3):
        log_in(client, "wrong")
    clock[0] += 31
    log_in(client, "wrong")
    assert "Too many attempts" in log_in(client, password).content.decode()
    assert not signed_in(client)


def test_unknown_names_are_throttled_like_real_ones(client, db, clock):
    for _ in range(3):
        services.log_in(None, "nobody", "wrong", "198.51.100.1")
    with pytest.raises(TooManyAttempts):
        services.log_in(None, "nobody", "wrong", "198.51.100.1")


def test_parallel_attempts_cannot_pass_the_limit(bob, monkeypatch):
    checked = []
    start = threading.Barrier(20)

    def slow_wrong_password(request, username, password):
        checked.append(username)
        time.sleep(0.05)  # every attempt is in flight at once
        return None

    monkeypatch.setattr(services, "authenticate", slow_wrong_password)
    outcomes = []

    def attempt():
        start.wait()
        try:
            services.log_in(None, "bob", "guess", "198.51.100.1")
            outcomes.append("checked")
        except TooManyAttempts:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 3
    assert outcomes.count("refused") == 17


def test_the_admin_log_in_has_the_same_limits(client, dave, password):
    for n in range(3):
        client.post(
            ADMIN_LOGIN, {"username": "dave", "password": "wrong"}, REMOTE_ADDR=f"198.51.100.{n}"
        )
    response = client.post(ADMIN_LOGIN, {"username": "dave", "password": password})
    assert "Too many attempts" in response.content.decode()
    assert not signed_in(client)


def test_the_admin_log_in_still_works(client, dave, password):
    response = client.post(ADMIN_LOGIN, {"username": "dave", "password": password})
    assert response.status_code == 302
    assert signed_in(client)


def test_the_token_endpoint_has_the_same_limits_and_says_when_to_retry(bob, password):
    client = APIClient()
    for n in range(3):
        client.post(
            reverse("api-token"),
            {"username": "bob", "password": "wrong"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{n}",
        )
    refused = client.post(
        reverse("api-token"), {"username": "bob", "password": password}, format="json"
    )
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert "access" not in refused.json()


def test_checks_that_crash_do_not_count_against_the_owner(client, bob, password, monkeypatch):
    from django.db import OperationalError

    def database_down(request, username, password):
        raise OperationalError("database is down")

    monkeypatch.setattr(services, "authenticate", database_down)
    for _ in range(10):
        with pytest.raises(OperationalError):
            services.log_in(None, "bob", password, "198.51.100.1")
    monkeypatch.undo()
    assert services.log_in(None, "bob", password, "198.51.100.1") == bob


def test_a_count_left_without_an_opening_heals_after_one_delay(bob, password, clock):
    from infra import ratelimit

    account = services._account_identity("bob")
    for _ in range(5):  # attempts whose process died before they finished
        ratelimit.hit(services.LOGIN_SCOPE_ACCOUNT, account, 3600)
    with pytest.raises(TooManyAttempts) as refused:
        services.log_in(None, "bob", password, "198.51.100.1")
    assert refused.value.retry_after_seconds == 30
    clock[0] += 31
    assert services.log_in(None, "bob", password, "198.51.100.1") == bob
