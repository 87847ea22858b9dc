"""EMAIL_URL: console mail in development, SMTP from one variable in production."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from livesite.config import parse_email_url


def test_console_prints_mail():
    assert parse_email_url("console://") == {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"
    }


def test_smtp_uses_starttls_with_percent_encoded_credentials():
    config = parse_email_url("smtp://mailer%40example.com:p%3Ass@smtp.example.com:587")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert config["EMAIL_HOST_USER"] == "mailer@example.com"
    assert config["EMAIL_HOST_PASSWORD"] == "p:ss"
    assert config["EMAIL_USE_TLS"] and not config["EMAIL_USE_SSL"]


def test_smtps_uses_implicit_tls_on_465_by_default():
    config = parse_email_url("smtps://relay.internal")
    assert config["EMAIL_PORT"] == 465
    assert config["EMAIL_USE_SSL"] and not config["EMAIL_USE_TLS"]


def test_a_local_relay_can_go_without_tls_and_sets_a_timeout():
    config = parse_email_url("smtp://localhost:1025?tls=0&timeout=3")
    assert not config["EMAIL_USE_TLS"] and config["EMAIL_TIMEOUT"] == 3


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://smtp.example.com", "unsupported scheme 'http'"),
        ("smtp://", "names no host"),
        ("smtp://host:notaport", "malformed"),
        ("smtp://host?timeout=ten", "bad timeout"),
    ],
)
def test_a_bad_email_url_names_the_variable(url, says):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL") as error:
        parse_email_url(url)
    assert says in str(error.value)


def test_the_password_never_appears_in_the_error():
    with pytest.raises(ImproperlyConfigured) as error:
        parse_email_url("smtp://user:hunter2@host:bad")
    assert "hunter2" not in str(error.value)
