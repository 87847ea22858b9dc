"""An open directory page in real Chromium picks up a room going live, without a reload."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections

from conftest import need_service
from rooms import services
from tests.support.browser import chromium
from tests.support.servers import daphne_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def go_live(room) -> None:
    """In a thread of its own: Playwright runs an event loop in the test's thread."""

    def start():
        try:
            services.start_stream(room)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(start).result()


def test_a_room_going_live_appears_on_an_open_directory(alice_room):
    need_service(
        "Redis (REDIS_URL)",
        bool(settings.REDIS_URL),
        "the status change crosses from this process to the server's channel layer",
    )
    # The server caches the directory under its own key prefix, out of this test's reach:
    # a one-second cache has expired by the time the page refetches.
    with daphne_server({"ROOM_CACHE_SECONDS": "1"}) as server, chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        with page.expect_websocket(lambda socket: socket.url.endswith("/ws/directory/")):
            page.goto(f"{server.url}/")
        assert "Nobody is live right now" in page.inner_text("#live-rooms")
        page.evaluate("window.sameDocument = true")
        time.sleep(1.5)  # the socket's handshake, and the server's cached directory expires

        go_live(alice_room)

        card = page.wait_for_selector(
            f"#live-rooms a.room-card[href='/rooms/{alice_room.slug}/']", timeout=10_000
        )
        assert "👁 0" in card.inner_text()
        assert "Nobody is live right now" not in page.inner_text("#live-rooms")
        assert page.evaluate("window.sameDocument") is True  # swapped in, not reloaded
        assert not errors
