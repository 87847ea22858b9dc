"""An ingest takes a bounded number of real-time viewers, joining at a bounded rate; the
rest get 503 with Retry-After and watch HLS."""

import pytest

from rooms import services
from rooms.models import Room
from streaming.ingest.whep_admission import ViewerRefused, WhepAdmission, WhepLimits
from streaming.tests.live_ingest import ffmpeg_publish, serve_process, wait_for
from streaming.tests.whip_client import WhepViewer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_joins_is_let_in_at_the_join_rate():
    clock = Clock()
    admission = WhepAdmission(WhepLimits(max_viewers=1000, joins_per_second=10), clock)
    for viewers in range(10):  # one second's worth at once
        admission.admit(viewers)
    with pytest.raises(ViewerRefused) as refused:
        admission.admit(10)
    assert refused.value.retry_after == 1
    clock.now += 0.11  # a tenth of a second later, one more
    admission.admit(10)
    with pytest.raises(ViewerRefused):
        admission.admit(11)


def test_a_slow_join_rate_asks_to_retry_when_the_next_join_is_due():
    clock = Clock()
    admission = WhepAdmission(WhepLimits(max_viewers=1000, joins_per_second=0.2), clock)
    admission.admit(0)
    with pytest.raises(ViewerRefused) as refused:
        admission.admit(1)
    assert refused.value.retry_after == 5


def test_a_full_ingest_refuses_viewers_until_one_leaves():
    clock = Clock()
    admission = WhepAdmission(WhepLimits(max_viewers=3, joins_per_second=100), clock)
    for viewers in range(3):
        admission.admit(viewers)
    with pytest.raises(ViewerRefused) as refused:
        admission.admit(3)
    assert refused.value.retry_after > 0
    admission.admit(2)  # one left


def test_no_real_time_viewers_at_all_with_a_limit_of_zero():
    with pytest.raises(ViewerRefused):
        WhepAdmission(WhepLimits(max_viewers=0)).admit(0)


@pytest.mark.media
@pytest.mark.django_db(transaction=True)
def test_the_viewer_over_the_ingests_limit_gets_503_with_retry_after(tmp_path, alice, alice_room):
    key = services.rotate_stream_key(alice_room, alice)
    limits = {"WHEP_MAX_VIEWERS_PER_INGEST": "1", "WHIP_OFFERS_PER_MINUTE": "1000"}
    with serve_process(tmp_path, limits) as site:
        publisher = ffmpeg_publish(site.url(key), seconds=60, video_options=("-bf", "0"))
        url = f"{site.web_url}/whep/{alice_room.slug}/"
        first, second, third = WhepViewer(url), WhepViewer(url), WhepViewer(url)
        try:
            wait_for(lambda: Room.objects.get(pk=alice_room.pk).status == "live", timeout=20)
            # The ingest may not have seen the first keyframe yet when the room turns live.
            wait_for(lambda: first.start().status == 201, timeout=15, interval=0.5)
            refused = second.start()
            assert refused.status == 503
            assert int(refused.headers["Retry-After"]) > 0
            assert "HLS" in refused.body
            assert first.delete(site.web_url).status == 200
            assert third.start().status == 201
        finally:
            for viewer in (first, second, third):
                viewer.close()
            publisher.terminate()
            publisher.wait(timeout=10)
