"""Real-time viewing (WHEP): viewers get the WHIP publisher's own frames, no encode."""

import pytest

from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import serve_process, wait_for
from streaming.tests.whip_client import WhepViewer, WhipPublisher

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


@pytest.fixture
def alice_key(alice, alice_room):
    return services.rotate_stream_key(alice_room, alice)


@pytest.fixture
def site(tmp_path):
    with serve_process(tmp_path, {"WEBRTC_CONNECT_TIMEOUT": "5"}) as running:
        yield running


@pytest.mark.parametrize("codec", ["H264", "VP8"])
def test_viewers_receive_the_publishers_video_and_audio(site, alice_room, alice_key, codec):
    publisher = WhipPublisher(site.web_url + "/whip/", alice_key, codec=codec)
    viewers = [WhepViewer(f"{site.web_url}/whep/{alice_room.slug}/") for _ in range(3)]
    try:
        assert publisher.start().status == 201
        wait_for(lambda: room_status(alice_room) == "live", timeout=15)
        wait_for(lambda: publisher.connection_state == "connected", timeout=15)
        for viewer in viewers:
            response = viewer.start()
            assert response.status == 201, response.body
            assert response.headers["Location"].startswith(f"/whep/{alice_room.slug}/")
        for viewer in viewers:
            wait_for(lambda v=viewer: v.frames["video"] >= 30, timeout=20)
            wait_for(lambda v=viewer: v.frames["audio"] >= 20, timeout=10)
            assert viewer.sizes == {(320, 240)}
        assert viewers[0].delete(site.web_url).status == 200
        assert viewers[0].delete(site.web_url).status == 404
    finally:
        for viewer in viewers:
            viewer.close()
        publisher.close()


def test_a_room_that_is_not_live_is_not_found(site, alice_room, alice_key):
    viewer = WhepViewer(f"{site.web_url}/whep/{alice_room.slug}/")
    try:
        assert viewer.start().status == 404
    finally:
        viewer.close()
