"""A page whose database is away answers 503 with a retry hint, not a 500 page."""

from django.db import InterfaceError
from django.urls import reverse

from rooms import views


def test_a_page_that_meets_a_lost_database_answers_503(client, db, monkeypatch):
    def database_gone(*args, **kwargs):
        raise InterfaceError(0, "connection already closed")

    monkeypatch.setattr(views.cache, "directory", database_gone)
    response = client.get(reverse("rooms:directory"))
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert b"briefly unavailable" in response.content
