"""Alice goes live from her browser (Chromium's fake camera) on the go-live page."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from livesite.browser import FAKE_MEDIA_ARGS, chromium, log_in
from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import serve_process, wait_for

pytestmark = [
    pytest.mark.media,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def room_status(room) -> str:
    # Playwright runs an event loop on this thread: the ORM goes to another one.
    def read():
        try:
            return Room.objects.values_list("status", flat=True).get(pk=room.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(read).result()


def test_alice_goes_live_from_the_browser_and_viewers_get_hls(
    tmp_path, alice, alice_room, password
):
    services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path) as site, chromium(FAKE_MEDIA_ARGS) as browser:
        page = browser.new_page()
        log_in(page, site.web_url, alice.username, password)
        page.goto(f"{site.web_url}/rooms/{alice_room.slug}/go-live/")
        page.wait_for_function("() => document.querySelector('[data-preview]').videoWidth > 0")
        page.click("[data-testid=go-live]")
        page.wait_for_function(
            "() => document.querySelector('[data-status]').textContent.startsWith('Live')",
            timeout=20_000,
        )
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
        # The page's own status badge follows the room over its monitor socket.
        page.wait_for_function(
            "() => document.querySelector('[data-room-status]').textContent.trim() === 'Live'",
            timeout=15_000,
        )
        source = site.hls_root / alice_room.slug / "source"
        wait_for(lambda: len(list(source.glob("seg_*"))) >= 2, timeout=40)
        # A viewer switches to real time: the publisher's own WebRTC video plays.
        viewer = browser.new_page()
        viewer.goto(f"{site.web_url}/rooms/{alice_room.slug}/")
        viewer.wait_for_function(
            "() => { const v = document.querySelector('[data-player] video');"
            " return v && !v.hidden && v.currentTime > 0.5; }",
            timeout=30_000,
        )
        viewer.click("[data-realtime]")
        viewer.wait_for_function(
            "() => { const v = document.querySelector('[data-player] video');"
            " return v.srcObject && v.videoWidth > 0 && v.currentTime > 1; }",
            timeout=20_000,
        )
        assert viewer.locator("[data-realtime]").get_attribute("aria-pressed") == "true"
        page.click("[data-testid=stop]")
        wait_for(lambda: room_status(alice_room) == "ended", timeout=20)
        assert page.locator("[data-status]").text_content() == "Stream ended."


def test_a_refused_go_live_says_why(tmp_path, alice, alice_room, password):
    services.rotate_stream_key(alice_room, alice)
    services.stop_room(alice_room, alice)
    with serve_process(tmp_path) as site, chromium(FAKE_MEDIA_ARGS) as browser:
        page = browser.new_page()
        log_in(page, site.web_url, alice.username, password)
        page.goto(f"{site.web_url}/rooms/{alice_room.slug}/go-live/")
        page.wait_for_function("() => document.querySelector('[data-preview]').videoWidth > 0")
        page.click("[data-testid=go-live]")
        error = page.locator("[data-error]")
        error.wait_for(state="visible", timeout=15_000)
        assert "press Start" in error.text_content()
        assert room_status(alice_room) == "offline"
