"""/metrics and /readyz answer the operator's networks or token; /healthz answers anyone."""

import pytest
from django.urls import reverse

OUTSIDER = "203.0.113.9"


@pytest.fixture(autouse=True)
def operator_settings(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", "10.20.0.0/16"]
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]


@pytest.mark.parametrize("route", ["metrics", "readyz"])
def test_an_outsider_is_refused(client, db, route):
    assert client.get(reverse(route), REMOTE_ADDR=OUTSIDER).status_code == 403


@pytest.mark.parametrize("route", ["metrics", "readyz"])
def test_an_outsider_through_our_proxy_is_refused(client, db, route):
    response = client.get(reverse(route), REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDER)
    assert response.status_code == 403


@pytest.mark.parametrize("route", ["metrics", "readyz"])
def test_an_allowed_network_is_answered(client, db, route):
    assert client.get(reverse(route), REMOTE_ADDR="10.20.3.4").status_code == 200


def test_a_forged_header_from_outside_does_not_claim_an_allowed_network(client, db):
    response = client.get(
        reverse("metrics"), REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="10.20.3.4"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("route", ["metrics", "readyz"])
def test_the_token_opens_them_from_anywhere(client, db, route):
    response = client.get(
        reverse(route), REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong", "Bearer ", "Basic s3cret-scrape-token", "s3cret-scrape-token", "B" * 9000],
)
def test_a_wrong_token_is_refused(client, db, header):
    response = client.get(reverse("metrics"), REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION=header)
    assert response.status_code == 403


def test_no_token_configured_means_no_token_opens_them(client, db, settings):
    settings.METRICS_TOKEN = ""
    response = client.get(reverse("metrics"), REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_healthz_answers_anyone(client, db):
    assert client.get(reverse("healthz"), REMOTE_ADDR=OUTSIDER).status_code == 200
