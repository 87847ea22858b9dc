"""Real-time viewing (WHEP) of a room live from RTMP: ffmpeg publishes as OBS would,
aiortc viewers receive decodable H.264 and Opus, and the room's audio is encoded once."""

import re

import pytest

from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, serve_process, wait_for
from streaming.tests.whip_client import WhepViewer, http
from tests.support.servers import daphne_server

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]

# What OBS sends when told to for real-time viewing: no B-frames (x264 "zerolatency").
NO_B_FRAMES = ("-bf", "0")
# Tests offer more often than one address may in production.
LENIENT = {"WHIP_OFFERS_PER_MINUTE": "1000"}


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


def metric(site, name: str) -> float:
    text = http("GET", site.web_url + "/metrics").body
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
def alice_key(alice, alice_room):
    return services.rotate_stream_key(alice_room, alice)


@pytest.fixture
def site(tmp_path):
    with serve_process(tmp_path, {**LENIENT, "WEBRTC_CONNECT_TIMEOUT": "5"}) as running:
        yield running


@pytest.fixture
def rtmp_room(site, alice_room, alice_key):
    publisher = ffmpeg_publish(site.url(alice_key), seconds=60, video_options=NO_B_FRAMES)
    try:
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        yield alice_room
    finally:
        publisher.terminate()
        publisher.wait(timeout=10)


def watch(url: str) -> WhepViewer:
    viewer = WhepViewer(url)
    # The ingest may not have seen the first keyframe yet when the room turns live.
    wait_for(lambda: viewer.start().status == 201, timeout=15, interval=0.5)
    return viewer


def test_viewers_of_an_rtmp_room_get_its_video_and_opus_encoded_once(site, rtmp_room):
    url = f"{site.web_url}/whep/{rtmp_room.slug}/"
    encoders_before = metric(site, "livesite_whep_audio_encoders_started_total")
    first = watch(url)
    second = None
    try:
        assert "opus/48000" in first.answer.lower()
        wait_for(lambda: first.frames["video"] >= 30, timeout=20)
        wait_for(lambda: first.frames["audio"] >= 20, timeout=10)
        assert first.sizes == {(320, 240)}
        second = watch(url)
        wait_for(lambda: second.frames["video"] >= 30, timeout=20)
        wait_for(lambda: second.frames["audio"] >= 20, timeout=10)
        # Two listeners, one AAC-to-Opus encoder for the room.
        started = metric(site, "livesite_whep_audio_encoders_started_total") - encoders_before
        assert started == 1
        assert metric(site, "livesite_whep_audio_packets_encoded_total") > 0
    finally:
        first.close()
        if second is not None:
            second.close()


def test_an_rtmp_source_with_b_frames_is_watched_in_the_ladders_top_rung(
    tmp_path, alice_room, alice_key
):
    with serve_process(tmp_path, {**LENIENT, "TRANSCODER_LADDER": "120"}) as site:
        publisher = ffmpeg_publish(site.url(alice_key), seconds=40)  # High, B-frames
        viewer = None
        try:
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
            viewer = watch(f"{site.web_url}/whep/{alice_room.slug}/")
            wait_for(lambda: viewer.frames["video"] >= 30, timeout=30)
            wait_for(lambda: viewer.frames["audio"] >= 20, timeout=10)
            assert viewer.sizes == {(160, 120)}
        finally:
            if viewer is not None:
                viewer.close()
            publisher.terminate()
            publisher.wait(timeout=10)


def test_b_frames_and_no_ladder_send_the_viewer_back_to_hls(site, alice_room, alice_key):
    publisher = ffmpeg_publish(site.url(alice_key), seconds=30)  # B-frames, ladder "none"
    viewer = WhepViewer(f"{site.web_url}/whep/{alice_room.slug}/")
    try:
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        source = site.hls_root / alice_room.slug / "source"
        wait_for(lambda: list(source.glob("part_*")), timeout=20)
        response = viewer.start()
        assert response.status == 409
        assert "B-frames" in response.body and "HLS" in response.body
    finally:
        viewer.close()
        publisher.terminate()
        publisher.wait(timeout=10)


def test_rtmp_room_watched_through_daphne_and_a_separate_ingest(
    tmp_path, redis_url, alice_room, alice_key
):
    """The production layout: the web hands the viewer's offer to `manage.py ingest`."""
    with (
        ingest_process(tmp_path, LENIENT) as ingest,
        daphne_server({**LENIENT, "HLS_ROOT": str(ingest.hls_root)}) as web,
    ):
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=40, video_options=NO_B_FRAMES)
        viewer = None
        try:
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
            viewer = watch(f"{web.url}/whep/{alice_room.slug}/")
            wait_for(lambda: viewer.frames["video"] >= 30, timeout=20)
            wait_for(lambda: viewer.frames["audio"] >= 20, timeout=10)
            assert viewer.delete(web.url).status == 200
        finally:
            if viewer is not None:
                viewer.close()
            publisher.terminate()
            publisher.wait(timeout=10)


class TestBadOffersForAnRtmpRoom:
    def test_malformed_sdp_is_400(self, site, rtmp_room):
        response = http("POST", f"{site.web_url}/whep/{rtmp_room.slug}/", b"hello",
                        {"Content-Type": "application/sdp"})  # fmt: skip
        assert response.status == 400
        assert "v=0" in response.body

    def test_an_offer_without_video_is_400(self, site, rtmp_room):
        viewer = WhepViewer(f"{site.web_url}/whep/{rtmp_room.slug}/", video=False)
        try:
            response = viewer.start()
            assert response.status == 400
            assert "no video" in response.body
        finally:
            viewer.close()

    def test_an_offer_over_64_kb_is_413(self, site, rtmp_room):
        body = b"v=0\r\n" + b"a=x-padding:" + b"x" * 70_000 + b"\r\n"
        response = http("POST", f"{site.web_url}/whep/{rtmp_room.slug}/", body,
                        {"Content-Type": "application/sdp"})  # fmt: skip
        assert response.status == 413

    def test_deleting_another_viewers_session_is_404(self, site, rtmp_room):
        viewer = watch(f"{site.web_url}/whep/{rtmp_room.slug}/")
        try:
            ingest_id, _, token = viewer.location.rstrip("/").rsplit("/", 1)[1].partition("-")
            forged = f"/whep/{rtmp_room.slug}/{ingest_id}-{token[::-1]}x/"
            assert http("DELETE", site.web_url + forged).status == 404
            assert http("DELETE", f"{site.web_url}/whep/{rtmp_room.slug}/nobody-x/").status == 404
            wait_for(lambda: viewer.frames["video"] >= 10, timeout=20)
        finally:
            viewer.close()
