"""Which reads may go to the read replica; the real replica is in faults/test_read_replica.py."""

import time
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from gifts.models import Balance, LedgerEntry
from infra import read_replica
from moderation.models import Restriction
from rooms.models import Room

# The replica fixture adds a DATABASES entry; connections are never opened on it here.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def replica(settings, monkeypatch):
    """A configured replica that answers its status check with 0 s of lag."""
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}
    monkeypatch.setattr(read_replica, "read_replica_status", lambda: 0.0)
    monkeypatch.setattr(read_replica, "connections", mock.MagicMock())
    read_replica.forget_replica_state()
    yield
    read_replica.forget_replica_state()


def read_alias(model) -> str:
    return read_replica.ReplicaRouter().db_for_read(model)


def test_reads_use_the_primary_unless_the_read_path_allows_staleness(replica):
    assert read_alias(Room) == "default"
    with read_replica.reading_stale_ok():
        assert read_alias(Room) == "replica"


def test_money_and_moderation_are_read_from_the_primary_even_where_staleness_is_ok(replica):
    with read_replica.reading_stale_ok():
        assert read_alias(Balance) == "default"
        assert read_alias(LedgerEntry) == "default"
        assert read_alias(Restriction) == "default"


def test_a_browser_that_just_wrote_reads_from_the_primary(replica):
    with read_replica.pinned_to_primary(), read_replica.reading_stale_ok():
        assert read_alias(Room) == "default"


def test_a_lagging_replica_is_not_read(replica, monkeypatch):
    def lagging():
        raise read_replica.ReplicaLagging("replica lag 42 s exceeds 5 s")

    monkeypatch.setattr(read_replica, "read_replica_status", lagging)
    with read_replica.reading_stale_ok():
        assert read_alias(Room) == "default"


@pytest.mark.parametrize("cookie", ["nan", "inf", "not-a-time", "1e999", "9" * 400])
def test_a_malformed_write_stamp_reads_from_the_primary(cookie):
    assert read_replica.recently_wrote(cookie) is True


def test_an_old_write_stamp_reads_from_the_replica_again(settings):
    assert read_replica.recently_wrote(str(time.time() - 3600)) is False
    assert read_replica.recently_wrote(str(time.time())) is True
    assert read_replica.recently_wrote(None) is False


def test_a_post_stamps_the_write_cookie(client, db, replica):
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert read_replica.recently_wrote(response.cookies[read_replica.WROTE_COOKIE].value)


def test_a_replica_that_fails_mid_page_is_marked_down_and_the_page_read_again(replica):
    @read_replica.stale_reads_ok
    def page(request):
        alias = read_alias(Room)
        if alias == "replica":
            raise OperationalError(2013, "Lost connection to server during query")
        return HttpResponse(alias)

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert page(request).content == b"default"
    with read_replica.reading_stale_ok():
        assert read_alias(Room) == "default"  # skipped until the next check


def test_readyz_names_replica_lag_without_failing(client, db, replica, monkeypatch):
    def lagging():
        raise read_replica.ReplicaLagging("replica lag 42 s exceeds 5 s")

    monkeypatch.setattr(read_replica, "read_replica_status", lagging)
    response = client.get(reverse("readyz"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["degraded"] == ["database_replica"]
    assert body["checks"]["database_replica"]["detail"] == "replica lag 42 s exceeds 5 s"


def test_metrics_show_the_replica_lag(client, db, replica, monkeypatch):
    monkeypatch.setattr(read_replica, "read_replica_status", lambda: 3.0)
    read_replica.check_replica(force=True)
    body = client.get(reverse("metrics")).content.decode()
    assert "livesite_database_replica_lag_seconds 3.0" in body
    assert "livesite_database_replica_usable 1.0" in body


def test_the_signed_in_user_is_read_from_the_primary_before_a_stale_page(replica, rf):
    from django.utils.functional import SimpleLazyObject

    seen = []

    def load_user():
        seen.append(read_replica._stale_ok.get())
        return AnonymousUser()

    request = rf.get("/")
    request.user = SimpleLazyObject(load_user)
    read_replica.stale_reads_ok(lambda request: HttpResponse(str(request.user)))(request)
    assert seen == [False]
