"""Alice goes live from her browser (Chromium's fake camera) on the go-live page."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import ffmpeg_publish, serve_process, wait_for
from tests.support.browser import FAKE_MEDIA_ARGS, chromium, log_in

pytestmark = [
    pytest.mark.media,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PREVIEW_PLAYS = "() => document.querySelector('[data-preview]').videoWidth > 0"
# A camera without the permission prompt's answer: the browser refuses it.
DENIED_MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]


def on_orm_thread(read):
    # Playwright runs an event loop on this thread: the ORM goes to another one.
    def call():
        try:
            return read()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(call).result()


def room_status(room) -> str:
    return on_orm_thread(lambda: Room.objects.values_list("status", flat=True).get(pk=room.pk))


def open_go_live(browser, site, alice, room, password, **page_options):
    page = browser.new_page(**page_options)
    log_in(page, site.web_url, alice.username, password)
    page.goto(f"{site.web_url}/rooms/{room.slug}/go-live/")
    return page


def chat_shows(page, text: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "(text) => [...document.querySelectorAll('[data-chat-list] .chat-text')]"
        ".some((item) => item.textContent === text)",
        arg=text,
        timeout=timeout,
    )


def send_chat(page, text: str) -> None:
    page.fill("[data-chat-form] input[name=text]", text)
    page.press("[data-chat-form] input[name=text]", "Enter")


def test_alice_goes_live_sees_her_audience_and_chat_and_viewers_get_hls(
    tmp_path, alice, alice_room, bob, password
):
    services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path) as site, chromium(FAKE_MEDIA_ARGS) as browser:
        page = open_go_live(browser, site, alice, alice_room, password)
        page.wait_for_function(PREVIEW_PLAYS)
        assert page.locator("[data-viewer-count]").text_content() == "0"
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

        # Bob comes to watch: alice's page counts him (her own tab is not a viewer).
        viewer = browser.new_page()
        log_in(viewer, site.web_url, bob.username, password)
        viewer.goto(f"{site.web_url}/rooms/{alice_room.slug}/")
        page.wait_for_function(
            "() => document.querySelector('[data-viewer-count]').textContent === '1'",
            timeout=20_000,
        )
        # The room's chat, beside alice's preview, both ways.
        send_chat(viewer, "hello from bob")
        chat_shows(page, "hello from bob")
        send_chat(page, "thanks for watching")
        chat_shows(viewer, "thanks for watching")

        viewer.wait_for_function(
            "() => { const v = document.querySelector('[data-player] video');"
            " return v && !v.hidden && v.currentTime > 0.5; }",
            timeout=30_000,
        )
        # Bob switches to real time: the publisher's own WebRTC video plays.
        viewer.click("[data-realtime]")
        viewer.wait_for_function(
            "() => { const v = document.querySelector('[data-player] video');"
            " return v.srcObject && v.videoWidth > 0 && v.currentTime > 1; }",
            timeout=20_000,
        )
        assert viewer.locator("[data-realtime]").get_attribute("aria-pressed") == "true"

        # The other camera, while live: the same session carries on.
        page.click("[data-flip]")
        page.wait_for_function(
            "() => { const track = document.querySelector('[data-preview]').srcObject"
            ".getVideoTracks()[0]; return track.readyState === 'live'; }",
            timeout=10_000,
        )
        assert page.locator("[data-error]").is_hidden()
        assert page.locator("[data-status]").text_content().startswith("Live")
        assert room_status(alice_room) == "live"

        page.click("[data-testid=stop]")
        wait_for(lambda: room_status(alice_room) == "ended", timeout=20)
        assert page.locator("[data-status]").text_content() == "Stream ended."


def test_on_an_upright_phone_the_preview_is_portrait(tmp_path, alice, alice_room, password):
    services.rotate_stream_key(alice_room, alice)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    with serve_process(tmp_path) as site, chromium(FAKE_MEDIA_ARGS) as browser:
        page = open_go_live(browser, site, alice, alice_room, password, **phone)
        page.wait_for_function(PREVIEW_PLAYS)
        assert page.locator("[data-resolution]").input_value() == "720x1280"
        page.wait_for_function(
            "() => document.querySelector('[data-go-live]').dataset.orientation === 'portrait'"
        )
        size = page.evaluate(
            "() => { const v = document.querySelector('[data-preview]');"
            " return [v.videoWidth, v.videoHeight]; }"
        )
        assert size[1] > size[0]
        box = page.locator("[data-preview]").bounding_box()
        assert box["height"] > box["width"] and box["width"] <= 390
        # The switch is on the page, beside the buttons a thumb reaches.
        assert page.locator("[data-flip]").is_visible()


def test_a_denied_camera_says_how_to_allow_it(tmp_path, alice, alice_room, password):
    services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path) as site, chromium(DENIED_MEDIA_ARGS) as browser:
        page = open_go_live(browser, site, alice, alice_room, password)
        error = page.locator("[data-error]")
        error.wait_for(state="visible", timeout=15_000)
        assert "not allowed to use the camera or microphone" in error.text_content()
        # Go live asks again, and says so again; nothing is sent to the server.
        page.click("[data-testid=go-live]")
        error.wait_for(state="visible", timeout=15_000)
        assert "allow them in the address bar" in error.text_content()
        assert page.locator("[data-testid=stop]").is_disabled()
    assert room_status(alice_room) == "offline"


def test_a_refused_go_live_says_why(tmp_path, alice, alice_room, password):
    services.rotate_stream_key(alice_room, alice)
    services.stop_room(alice_room, alice)
    with serve_process(tmp_path) as site, chromium(FAKE_MEDIA_ARGS) as browser:
        page = open_go_live(browser, site, alice, alice_room, password)
        page.wait_for_function(PREVIEW_PLAYS)
        page.click("[data-testid=go-live]")
        error = page.locator("[data-error]")
        error.wait_for(state="visible", timeout=15_000)
        assert "press Start" in error.text_content()
        assert room_status(alice_room) == "offline"


def test_a_room_live_from_obs_or_a_rotated_key_is_refused_with_a_reason(
    tmp_path, alice, alice_room, password
):
    key = services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path) as site, chromium(FAKE_MEDIA_ARGS) as browser:
        page = open_go_live(browser, site, alice, alice_room, password)
        page.wait_for_function(PREVIEW_PLAYS)
        rtmp = ffmpeg_publish(site.url(key), seconds=30)
        try:
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
            page.click("[data-testid=go-live]")
            error = page.locator("[data-error]")
            error.wait_for(state="visible", timeout=15_000)
            assert "already live from another connection" in error.text_content()
            assert rtmp.poll() is None  # OBS carries on
            # A new key: the page's pass is void (and the RTMP publisher is dropped).
            on_orm_thread(lambda: services.rotate_stream_key(alice_room, alice))
            wait_for(lambda: rtmp.poll() is not None, timeout=20)
            page.click("[data-testid=go-live]")
            page.wait_for_function(
                "() => document.querySelector('[data-error]').textContent"
                ".includes('reload the page')",
                timeout=15_000,
            )
        finally:
            rtmp.terminate()
            rtmp.wait(timeout=10)
