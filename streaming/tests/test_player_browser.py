"""A viewer in headless Chromium watches alice's stream: the video plays."""

import pytest

from livesite.browser import chromium
from livesite.testing import daphne_server
from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, serve_process, wait_for

pytestmark = [
    pytest.mark.media,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_viewer_sees_the_live_video_play(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    with ingest_process(tmp_path, {"TRANSCODER_LADDER": "120"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(key), seconds=40)
        try:
            playlist = ingest.hls_root / alice_room.slug / "source" / "index.m3u8"
            wait_for(lambda: playlist.exists() and playlist.read_text().count("#EXTINF") >= 2, 30)
            assert Room.objects.get(pk=alice_room.pk).status == "live"
            env = {"HLS_ROOT": str(ingest.hls_root)}
            with daphne_server(env) as server, chromium() as browser:
                page = browser.new_page()
                page.goto(f"{server.url}/rooms/{alice_room.slug}/")
                page.wait_for_function(
                    "() => { const v = document.querySelector('[data-player] video');"
                    " return v && !v.hidden && v.currentTime > 1.5; }",
                    timeout=30_000,
                )
                assert page.locator("[data-live-badge]").is_visible()
                assert page.locator("[data-offline-poster]").is_hidden()
                options = page.locator(".player-quality option").all_text_contents()
                assert options[0] == "Auto" and "120p" in options
                page.click("[data-unmute]")
                assert page.evaluate("document.querySelector('[data-player] video').muted") is False
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)


def test_offline_poster_turns_into_the_player_when_alice_goes_live(tmp_path, alice, alice_room):
    """`manage.py serve` (the one-command start): web and ingest share one process."""
    key = services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path) as serve, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{serve.web_url}/rooms/{alice_room.slug}/")
        assert page.locator("[data-offline-poster]").is_visible()
        page.wait_for_timeout(1000)  # the room socket connects
        publisher = ffmpeg_publish(serve.url(key), seconds=40)
        try:
            page.wait_for_function(
                "() => { const v = document.querySelector('[data-player] video');"
                " return v && !v.hidden && v.currentTime > 1.5; }",
                timeout=40_000,
            )
            assert page.locator("[data-offline-poster]").is_hidden()
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)
        # The stream ends after the grace period and the page shows the poster again.
        page.wait_for_selector("[data-offline-poster]", state="visible", timeout=30_000)


def test_viewer_keeps_playing_when_alice_drops_and_reconnects(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    with serve_process(tmp_path, {"INGEST_RECONNECT_GRACE": "15"}) as serve, chromium() as browser:
        first = ffmpeg_publish(serve.url(key), seconds=8)
        playlist = serve.hls_root / alice_room.slug / "source" / "index.m3u8"
        wait_for(lambda: playlist.exists(), 30)
        page = browser.new_page()
        page.goto(f"{serve.web_url}/rooms/{alice_room.slug}/")
        page.evaluate("window.sameDocument = true")
        playing = (
            "(at) => { const v = document.querySelector('[data-player] video');"
            " return v && !v.hidden && v.currentTime > at; }"
        )
        page.wait_for_function(playing, arg=1.0, timeout=30_000)
        assert first.wait(timeout=30) == 0
        second = ffmpeg_publish(serve.url(key), seconds=30)
        try:
            wait_for(lambda: "#EXT-X-DISCONTINUITY" in playlist.read_text(), 30)
            # The first publish held 8 s of media: playing past 11 s means the second one plays.
            page.wait_for_function(playing, arg=11.0, timeout=40_000)
            assert page.evaluate("window.sameDocument") is True
        finally:
            second.terminate()
            second.wait(timeout=10)
