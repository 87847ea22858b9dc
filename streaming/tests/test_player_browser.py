"""A viewer in headless Chromium watches alice's stream: the video plays."""

import pytest

from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, serve_process, wait_for
from tests.support.browser import chromium
from tests.support.servers import daphne_server

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


def test_viewer_plays_parts_with_blocking_reloads_near_the_live_edge(
    tmp_path, alice, alice_room
):
    key = services.rotate_stream_key(alice_room, alice)
    with ingest_process(tmp_path, {"TRANSCODER_LADDER": "120"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(key), seconds=40)
        try:
            playlist = ingest.hls_root / alice_room.slug / "source" / "index.m3u8"
            wait_for(lambda: playlist.exists() and playlist.read_text().count("#EXTINF") >= 1, 30)
            env = {"HLS_ROOT": str(ingest.hls_root)}
            with daphne_server(env) as server, chromium() as browser:
                page = browser.new_page()
                requested = []
                page.on("request", lambda request: requested.append(request.url))
                page.goto(f"{server.url}/rooms/{alice_room.slug}/")
                page.wait_for_function(
                    "() => { const v = document.querySelector('[data-player] video');"
                    " return v && !v.hidden && v.currentTime > 3; }",
                    timeout=30_000,
                )
                # Behind the newest part by about PART-HOLD-BACK, not segments.
                behind = page.evaluate(
                    "() => { const v = document.querySelector('[data-player] video');"
                    " return v.buffered.end(v.buffered.length - 1) - v.currentTime; }"
                )
                assert behind < 2.0
        finally:
            publisher.terminate()
            publisher.wait(timeout=10)
    assert any("_HLS_msn=" in url and "_HLS_part=" in url for url in requested)
    assert any("/part_" in url for url in requested)


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


def test_a_replay_plays_from_its_page_and_can_seek(tmp_path, alice, alice_room):
    """A stream recorded by the real transcoder, kept as a replay, played in Chromium."""
    from streaming.replays import make_replay
    from streaming.transcoder.tests.broadcasts import make_broadcast
    from streaming.transcoder.tests.transcoder_runs import transcode

    hls_root = tmp_path / "hls"
    live = hls_root / alice_room.slug
    broadcast = make_broadcast(tmp_path / "in.flv", seconds=8)
    assert transcode(broadcast, live, "--keep-recording", "--ladder", "none").exit_status == 0
    stream = services.start_stream(alice_room)
    services.end_stream(alice_room)
    services.record_replay(stream.pk, make_replay(live, stream.pk))
    with daphne_server({"HLS_ROOT": str(hls_root)}) as server, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{server.url}/rooms/{alice_room.slug}/replays/{stream.pk}/")
        page.wait_for_function(
            "() => { const v = document.querySelector('[data-player] video');"
            " return v && !v.hidden && v.currentTime > 1; }",
            timeout=30_000,
        )
        assert page.locator("[data-live-badge]").is_hidden()
        duration = page.evaluate("document.querySelector('[data-player] video').duration")
        assert duration == pytest.approx(8, abs=1)  # a finished VOD, not a live window
        page.evaluate("document.querySelector('[data-player] video').currentTime = 6")
        page.wait_for_function(
            "() => document.querySelector('[data-player] video').currentTime > 6.2", timeout=15_000
        )


def test_the_stream_manager_shows_live_health_and_ends_the_stream(
    tmp_path, alice, alice_room, password
):
    """The broadcaster's view: health of the real stream pushed to the page, then End."""
    from tests.support.browser import log_in

    key = services.rotate_stream_key(alice_room, alice)
    env = {"INGEST_RECONNECT_GRACE": "30", "INGEST_KEY_CHECK_MS": "200"}
    with serve_process(tmp_path, env) as serve, chromium() as browser:
        page = browser.new_page()
        log_in(page, serve.web_url, "alice", password)
        page.goto(f"{serve.web_url}/rooms/{alice_room.slug}/manage/")
        assert page.locator("[data-room-status]").inner_text() == "Offline"
        page.wait_for_timeout(1000)  # the socket connects
        publisher = ffmpeg_publish(serve.url(key), seconds=60)
        try:
            page.wait_for_function(
                "() => document.querySelector('[data-room-status]').textContent === 'Live'",
                timeout=20_000,
            )
            resolution = page.locator('[data-health-field="resolution"]')
            resolution.wait_for(state="visible", timeout=20_000)
            assert resolution.inner_text() == "320\u00d7240"
            assert page.locator('[data-health-field="codecs"]').inner_text() == "h264 / aac"
            assert "bit/s" in page.locator('[data-health-field="input_bitrate"]').inner_text()
            page.reload()  # a fresh page paints the last report at once
            assert page.locator('[data-health-field="resolution"]').inner_text() == "320\u00d7240"
            page.click("[data-stop]")  # "End stream": no 30 s grace
            assert publisher.wait(timeout=10) != 0
            assert page.locator("[data-start]").is_visible()
        finally:
            publisher.kill()
            publisher.wait(timeout=10)
    assert Room.objects.get(pk=alice_room.pk).status == "ended"
