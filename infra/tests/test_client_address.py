"""Which address a request comes from: X-Forwarded-For only through a trusted proxy."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from infra import client_address


@pytest.fixture(autouse=True)
def proxies(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8", "::1/128", "10.0.0.0/8"]


def address(peer, forwarded=None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address.for_request(RequestFactory().get("/", **extra))


def test_a_forged_header_from_an_untrusted_peer_is_ignored():
    assert address("203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_the_trusted_proxy_hands_on_the_right_most_untrusted_address():
    # nginx appended the real client (198.51.100.7) after what the client claimed.
    assert address("127.0.0.1", "1.2.3.4, 198.51.100.7") == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_skipped():
    assert address("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3") == "198.51.100.7"


def test_a_trusted_peer_without_the_header_is_the_client():
    assert address("127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize("garbage", ["", "not-an-ip", "1.2.3.4.5", "9" * 5000, ",,,", "\x00"])
def test_a_malformed_header_never_becomes_the_address(garbage):
    assert address("127.0.0.1", garbage) == "127.0.0.1"


def test_an_ipv4_mapped_peer_counts_as_its_ipv4_network():
    assert address("::ffff:10.0.0.5", "198.51.100.7") == "198.51.100.7"


def test_no_trusted_proxies_means_the_header_is_never_believed(settings):
    settings.TRUSTED_PROXIES = []
    assert address("127.0.0.1", "198.51.100.7") == "127.0.0.1"


def test_a_websocket_scope_gets_the_same_answer():
    scope = {
        "client": ["127.0.0.1", 5000],
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.7")],
    }
    assert client_address.for_scope(scope) == "198.51.100.7"
    scope["client"] = ["203.0.113.9", 5000]
    assert client_address.for_scope(scope) == "203.0.113.9"


def test_the_api_anonymous_throttle_ignores_forged_headers(db, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "9/min"})
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.get(reverse("api-rooms"), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_trusted_proxies_must_be_networks(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from livesite.config import env_cidrs

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, nginx")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env_cidrs("TRUSTED_PROXIES", [])
