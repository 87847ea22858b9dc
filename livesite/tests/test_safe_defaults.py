"""Defaults that are safe on a laptop that happens to face a network."""

import os
import stat

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from infra.listen_address import check_bind, is_loopback
from livesite.config import development_secret_key

OLD_PUBLIC_KEY = "insecure-development-key-set-SECRET_KEY-in-production"


def test_the_ingest_listens_on_loopback_unless_told_otherwise(settings):
    assert "INGEST_HOST" not in os.environ
    assert is_loopback(settings.INGEST_HOST)


@pytest.mark.parametrize("command", ["ingest", "serve"])
def test_a_debug_server_refuses_a_public_address(settings, command):
    settings.DEBUG = True
    settings.DEBUG_ALLOW_PUBLIC_BIND = False
    option = "host" if command == "ingest" else "ingest_host"
    with pytest.raises(CommandError, match="DEBUG_ALLOW_PUBLIC_BIND"):
        call_command(command, **{option: "0.0.0.0"})


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com", ""])
def test_only_loopback_is_loopback(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.8.9.1"])
def test_loopback_addresses_are_allowed_in_debug(settings, host):
    settings.DEBUG = True
    check_bind(host, "the web")


def test_public_binds_are_allowed_when_asked_or_without_debug(settings):
    settings.DEBUG, settings.DEBUG_ALLOW_PUBLIC_BIND = True, True
    check_bind("0.0.0.0", "the web")
    settings.DEBUG, settings.DEBUG_ALLOW_PUBLIC_BIND = False, False
    check_bind("0.0.0.0", "the web")


def test_each_install_gets_its_own_private_secret_key(tmp_path):
    first = development_secret_key(tmp_path / "a" / "secret_key")
    assert len(first) >= 50
    assert development_secret_key(tmp_path / "a" / "secret_key") == first
    assert development_secret_key(tmp_path / "b" / "secret_key") != first
    assert stat.S_IMODE((tmp_path / "a" / "secret_key").stat().st_mode) == 0o600


def test_a_token_signed_with_the_old_public_key_is_refused(dave):
    forged = jwt.encode(
        {"token_type": "access", "user_id": str(dave.pk), "exp": 4_000_000_000, "jti": "x"},
        OLD_PUBLIC_KEY,
        algorithm="HS256",
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get(reverse("api-me")).status_code == 401


def test_a_debug_page_never_shows_service_urls(db, settings):
    settings.DEBUG = True
    settings.DATABASE_URL = "mysql://live:hunter2@db.internal:3306/livesite"
    settings.REDIS_URL = "redis://:hunter3@cache.internal:6379/0"
    client = Client(raise_request_exception=False)
    page = client.get("/", HTTP_HOST="unknown.example").content.decode()
    assert "DisallowedHost" in page  # the debug page it is
    for secret in ("hunter2", "db.internal", "hunter3", "cache.internal"):
        assert secret not in page


async def serve_once(scope):
    from infra.listen_address import LoopbackOnlyInDebug

    sent, reached = [], []

    async def inner(scope, receive, send):
        reached.append(scope["type"])

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    await LoopbackOnlyInDebug(inner)(scope, receive, send)
    return reached, sent


@pytest.mark.parametrize("kind", ["http", "websocket"])
async def test_a_debug_server_started_by_hand_answers_only_this_machine(settings, kind):
    settings.DEBUG, settings.DEBUG_ALLOW_PUBLIC_BIND = True, False
    reached, sent = await serve_once({"type": kind, "client": ["198.51.100.7", 5000]})
    assert reached == []
    assert sent[0].get("status") == 403 or sent[0]["type"] == "websocket.close"
    reached, _ = await serve_once({"type": kind, "client": ["127.0.0.1", 5000]})
    assert reached == [kind]


async def test_without_debug_every_peer_is_answered(settings):
    settings.DEBUG = False
    reached, _ = await serve_once({"type": "http", "client": ["198.51.100.7", 5000]})
    assert reached == ["http"]


def test_a_debug_page_never_shows_sentinel_passwords(db, settings):
    settings.DEBUG = True
    settings.REDIS_PASSWORD = "hunter4"
    settings.REDIS_SENTINEL_PASSWORD = "hunter5"
    settings.CELERY_BROKER_URL = "sentinel://:hunter4@s1.internal:26379/0"
    settings.CELERY_RESULT_BACKEND = "sentinel://:hunter4@s1.internal:26379/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"sentinel_kwargs": {"password": "hunter5"}}
    settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"sentinel_kwargs": {"password": "hunter5"}}
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {
                "hosts": [{"password": "hunter4", "sentinel_kwargs": {"password": "hunter5"}}]
            },
        }
    }
    client = Client(raise_request_exception=False)
    page = client.get("/", HTTP_HOST="unknown.example").content.decode()
    assert "DisallowedHost" in page
    for secret in ("hunter4", "hunter5", "s1.internal"):
        assert secret not in page
