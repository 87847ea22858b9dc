"""A viewer in Chromium switches an RTMP room to real time (WHEP), and back to HLS
when real-time viewing fails."""

import pytest

from rooms import services
from streaming.tests.live_ingest import ffmpeg_publish, serve_process, wait_for
from tests.support.browser import FAKE_MEDIA_ARGS, chromium

pytestmark = [
    pytest.mark.media,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PLAYING_HLS = (
    "() => { const v = document.querySelector('[data-player] video');"
    " return v && !v.hidden && !v.srcObject && v.currentTime > 0.5; }"
)
PLAYING_REALTIME = (
    "() => { const v = document.querySelector('[data-player] video');"
    " return v.srcObject && v.videoWidth > 0 && v.currentTime > 1; }"
)


def without_candidates(sdp: str) -> str:
    lines = [line for line in sdp.splitlines() if not line.startswith("a=candidate")]
    return "\r\n".join(lines) + "\r\n"


def live_source(site, room) -> bool:
    return len(list((site.hls_root / room.slug / "source").glob("seg_*"))) >= 2


def test_real_time_plays_an_rtmp_room_with_sound(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path) as site:
        publisher = ffmpeg_publish(site.url(key), seconds=60, video_options=("-bf", "0"))
        try:
            wait_for(lambda: live_source(site, alice_room), timeout=40)
            with chromium(FAKE_MEDIA_ARGS) as browser:
                viewer = browser.new_page()
                viewer.goto(f"{site.web_url}/rooms/{alice_room.slug}/")
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
                viewer.click("[data-realtime]")
                viewer.wait_for_function(PLAYING_REALTIME, timeout=20_000)
                button = viewer.locator("[data-realtime]")
                assert button.get_attribute("aria-pressed") == "true"
                assert viewer.evaluate(
                    "document.querySelector('[data-player] video').srcObject"
                    ".getAudioTracks().length"
                ) == 1
                size = viewer.evaluate(
                    "(() => { const v = document.querySelector('[data-player] video');"
                    " return [v.videoWidth, v.videoHeight]; })()"
                )
                assert size == [320, 240]
                # And back to HLS on a second press.
                viewer.click("[data-realtime]")
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
                assert button.get_attribute("aria-pressed") == "false"
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)


def test_real_time_falls_back_to_hls_when_whep_refuses(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    # B-frames and no ladder: no video the ingest could forward, so WHEP answers 409.
    with serve_process(tmp_path) as site:
        publisher = ffmpeg_publish(site.url(key), seconds=60)
        try:
            wait_for(lambda: live_source(site, alice_room), timeout=40)
            with chromium(FAKE_MEDIA_ARGS) as browser:
                viewer = browser.new_page()
                viewer.goto(f"{site.web_url}/rooms/{alice_room.slug}/")
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
                viewer.click("[data-realtime]")
                button = viewer.locator("[data-realtime]")
                viewer.wait_for_function(
                    "() => document.querySelector('[data-realtime]').title"
                    ".includes('Back on the regular stream')",
                    timeout=20_000,
                )
                assert "B-frames" in button.get_attribute("title")
                assert button.get_attribute("aria-pressed") == "false"
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)


def test_real_time_falls_back_to_hls_when_the_connection_fails(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path, {"WEBRTC_CONNECT_TIMEOUT": "3"}) as site:
        publisher = ffmpeg_publish(site.url(key), seconds=60, video_options=("-bf", "0"))
        try:
            wait_for(lambda: live_source(site, alice_room), timeout=40)
            with chromium(FAKE_MEDIA_ARGS) as browser:
                viewer = browser.new_page()
                viewer.goto(f"{site.web_url}/rooms/{alice_room.slug}/")
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
                # Offer and answer pass, but neither side learns a candidate of the
                # other (as behind a firewall): the connection never forms.
                def unreachable(route):
                    if route.request.method != "POST":
                        route.continue_()
                        return
                    offer = without_candidates(route.request.post_data)
                    response = route.fetch(post_data=offer)
                    route.fulfill(response=response, body=without_candidates(response.text()))

                viewer.route("**/whep/**", unreachable)
                viewer.click("[data-realtime]")
                viewer.wait_for_function(
                    "() => document.querySelector('[data-realtime]').title"
                    ".includes('Back on the regular stream')",
                    timeout=60_000,
                )
                assert viewer.locator("[data-realtime]").get_attribute("aria-pressed") == "false"
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)


def test_real_time_falls_back_to_hls_when_the_ingest_is_full(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    # An ingest that takes no real-time viewer: WHEP answers 503 with Retry-After.
    with serve_process(tmp_path, {"WHEP_MAX_VIEWERS_PER_INGEST": "0"}) as site:
        publisher = ffmpeg_publish(site.url(key), seconds=60, video_options=("-bf", "0"))
        try:
            wait_for(lambda: live_source(site, alice_room), timeout=40)
            with chromium(FAKE_MEDIA_ARGS) as browser:
                viewer = browser.new_page()
                viewer.goto(f"{site.web_url}/rooms/{alice_room.slug}/")
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
                with viewer.expect_response("**/whep/**") as refusal:
                    viewer.click("[data-realtime]")
                assert refusal.value.status == 503
                viewer.wait_for_function(
                    "() => document.querySelector('[data-realtime]').title"
                    ".includes('Back on the regular stream')",
                    timeout=20_000,
                )
                button = viewer.locator("[data-realtime]")
                assert "most real-time viewers" in button.get_attribute("title")
                assert button.get_attribute("aria-pressed") == "false"
                viewer.wait_for_function(PLAYING_HLS, timeout=60_000)
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)
