"""WHIP ingest end to end: an aiortc publisher, the site and the ingest as an operator
runs them (`manage.py serve` on embedded defaults, or daphne + `manage.py ingest`
with Redis between them)."""

import subprocess
import sys
import time

import pytest

from rooms import services
from rooms.models import Room, Stream
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, serve_process, wait_for
from streaming.tests.whip_client import WhipPublisher, http
from tests.support.servers import ROOT, daphne_server, stop_process

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


@pytest.fixture
def alice_key(alice, alice_room):
    return services.rotate_stream_key(alice_room, alice)


@pytest.fixture
def site(tmp_path):
    with serve_process(tmp_path, {"WEBRTC_CONNECT_TIMEOUT": "3"}) as running:
        yield running


def segments(site, room) -> list:
    return sorted((site.hls_root / room.slug / "source").glob("seg_*"))


@pytest.mark.parametrize("codec", ["H264", "VP8"])
def test_a_whip_publisher_goes_live_and_becomes_hls(site, alice_room, alice_key, codec):
    publisher = WhipPublisher(site.web_url + "/whip/", alice_key, codec=codec)
    try:
        response = publisher.start()
        assert response.status == 201, response.body
        assert response.headers["Content-Type"] == "application/sdp"
        assert response.headers["Location"].startswith("/whip/")
        assert "a=fingerprint:" in response.body
        wait_for(lambda: publisher.connection_state == "connected", timeout=15)
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
        wait_for(lambda: len(segments(site, alice_room)) >= 2, timeout=30)
        assert publisher.delete(site.web_url).status == 200
        wait_for(lambda: room_status(alice_room) == "ended", timeout=20)
        # The session is gone: deleting it again finds nothing.
        assert publisher.delete(site.web_url).status == 404
    finally:
        publisher.close()
    stream = Stream.objects.get(room=alice_room)
    assert stream.ended_at is not None
    # As for RTMP, the recording stays as a replay.
    assert stream.replay_ready and stream.replay_seconds > 1
    assert alice_key not in site.log_text()


def test_a_wrong_key_gets_401(site, alice_room, alice_key):
    publisher = WhipPublisher(site.web_url + "/whip/", "live_not-a-key")
    try:
        response = publisher.start()
    finally:
        publisher.close()
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert room_status(alice_room) == "offline"


def test_a_stopped_room_gets_403(site, alice, alice_room, alice_key):
    services.stop_room(alice_room, alice)
    publisher = WhipPublisher(site.web_url + "/whip/", alice_key)
    try:
        response = publisher.start()
    finally:
        publisher.close()
    assert response.status == 403
    assert "stopped" in response.body


def test_a_room_live_from_rtmp_refuses_whip_with_409(site, alice_room, alice_key):
    rtmp = ffmpeg_publish(site.url(alice_key), seconds=20)
    try:
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        publisher = WhipPublisher(site.web_url + "/whip/", alice_key)
        try:
            response = publisher.start()
        finally:
            publisher.close()
        assert response.status == 409, response.body
        assert rtmp.poll() is None  # the RTMP publisher carries on
    finally:
        rtmp.terminate()
        rtmp.wait(timeout=10)


def test_a_room_live_from_whip_refuses_rtmp(site, alice_room, alice_key):
    publisher = WhipPublisher(site.web_url + "/whip/", alice_key)
    try:
        assert publisher.start().status == 201
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
        rtmp = ffmpeg_publish(site.url(alice_key), seconds=3)
        assert rtmp.wait(timeout=20) != 0
        assert "already live" in site.log_text()
    finally:
        publisher.close()


def test_a_session_that_never_connects_releases_the_room_within_seconds(
    site, alice_room, alice_key
):
    publisher = WhipPublisher(site.web_url + "/whip/", alice_key)
    try:
        offer = publisher.offer()  # the answer is never applied: ICE never starts
        response = http("POST", site.web_url + "/whip/", offer.encode(), {
            "Content-Type": "application/sdp", "Authorization": f"Bearer {alice_key}",
        })  # fmt: skip
        assert response.status == 201
        # WEBRTC_CONNECT_TIMEOUT is 3 s here; the lock goes with the stream, no grace.
        wait_for(lambda: room_status(alice_room) == "ended", timeout=10)
        second = WhipPublisher(site.web_url + "/whip/", alice_key)
        try:
            assert second.start().status == 201
        finally:
            second.close()
    finally:
        publisher.close()


# A publisher in a process of its own, which the test kills: no DELETE, no DTLS close, no
# RTCP BYE, as when a phone loses its network or a browser crashes.
PUBLISH_AND_HANG = """
import sys, time
from streaming.tests.whip_client import WhipPublisher
publisher = WhipPublisher(sys.argv[1], sys.argv[2])
print(publisher.start().status, flush=True)
time.sleep(600)
"""


def test_a_publisher_that_vanishes_fails_ice_and_releases_the_room(site, alice_room, alice_key):
    command = [sys.executable, "-c", PUBLISH_AND_HANG, site.web_url + "/whip/", alice_key]
    vanishing = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert vanishing.stdout.readline().strip() == "201"
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
        wait_for(lambda: len(segments(site, alice_room)) >= 1, timeout=30)
        vanishing.kill()
        gone_at = time.monotonic()
        # ICE consent checks (RFC 7675) fail after about 30 s of silence; then the
        # reconnect grace (2 s here) and the live lock goes.
        wait_for(lambda: room_status(alice_room) == "ended", timeout=60)
        assert time.monotonic() - gone_at < 50
    finally:
        stop_process(vanishing, timeout=5)
    assert "closed: connection" in site.log_text()
    again = WhipPublisher(site.web_url + "/whip/", alice_key)
    try:
        assert again.start().status == 201
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
    finally:
        again.close()


def test_a_rotated_key_drops_a_whip_publisher(site, alice, alice_room, alice_key):
    publisher = WhipPublisher(site.web_url + "/whip/", alice_key)
    try:
        assert publisher.start().status == 201
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
        services.rotate_stream_key(alice_room, alice)
        wait_for(lambda: "stream key rotated" in site.log_text(), timeout=10)
        wait_for(lambda: publisher.connection_state == "closed", timeout=10)
    finally:
        publisher.close()


def test_whip_through_daphne_and_a_separate_ingest(tmp_path, redis_url, alice_room, alice_key):
    """The production layout: the web process hands the offer to `manage.py ingest`."""
    with (
        ingest_process(tmp_path) as ingest,
        daphne_server({"HLS_ROOT": str(ingest.hls_root)}) as web,
    ):
        publisher = WhipPublisher(web.url + "/whip/", alice_key)
        try:
            assert publisher.start().status == 201
            wait_for(lambda: room_status(alice_room) == "live", timeout=15)
            wait_for(lambda: len(segments(ingest, alice_room)) >= 1, timeout=30)
            second = WhipPublisher(web.url + "/whip/", alice_key)
            try:
                assert second.start().status == 409
            finally:
                second.close()
            assert publisher.delete(web.url).status == 200
            wait_for(lambda: room_status(alice_room) == "ended", timeout=20)
        finally:
            publisher.close()
