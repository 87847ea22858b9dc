"""Publishing with the ffmpeg CLI to a real `manage.py ingest`, watching with PyAV."""

import time

import pytest

from rooms import services
from rooms.models import Room, Stream, StreamIncident
from streaming.ingest.live_lock import live_lock_key
from streaming.replays import replay_folder
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, wait_for
from streaming.transcoder.tests.hls_inspection import (
    inspect_segment,
    master_variants,
    media_playlist,
)

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


@pytest.fixture
def alice_key(alice, alice_room):
    return services.rotate_stream_key(alice_room, alice)


def test_published_stream_becomes_hls_with_a_ladder(tmp_path, alice_room, alice_key):
    with ingest_process(tmp_path, {"TRANSCODER_LADDER": "120"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=4)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        assert publisher.wait(timeout=30) == 0, publisher.stderr.read()
        output = ingest.hls_root / alice_room.slug
        variants = master_variants(output)
        assert set(variants) == {"source", "120p"}
        assert variants["source"]["RESOLUTION"] == "320x240"
        playlist = media_playlist(output, "source")
        assert len(playlist.segments) >= 1
        first = inspect_segment(output / "source" / playlist.segments[0].uri)
        assert (first.width, first.height) == (320, 240)
        assert first.audio_packets > 0 and first.decoded_frames > 0
        small = media_playlist(output, "120p")
        assert inspect_segment(output / "120p" / small.segments[0].uri).height == 120
        # After the grace period the stream ends and the live playlists close.
        wait_for(lambda: room_status(alice_room) == "ended", timeout=15)
        assert media_playlist(output, "source").ended
        stream = Stream.objects.get(room=alice_room)
        assert stream.ended_at is not None
        assert alice_key not in ingest.log_text()
        # The whole recording stays as a replay, every rendition.
        assert stream.replay_ready and stream.replay_seconds == pytest.approx(4, abs=1.1)
        replay = replay_folder(output, stream.pk)
        assert set(master_variants(replay)) == {"source", "120p"}
        for rendition in ("source", "120p"):
            recording = media_playlist(replay, rendition)
            assert recording.ended and recording.playlist_type == "VOD"
            assert inspect_segment(replay / rendition / recording.segments[0].uri).decoded_frames


def test_wrong_key_is_refused(tmp_path, alice_room, alice_key):
    with ingest_process(tmp_path) as ingest:
        publisher = ffmpeg_publish(ingest.url("live_not-a-key"), seconds=3)
        assert publisher.wait(timeout=20) != 0
        assert room_status(alice_room) == "offline"
        assert "unknown stream key" in ingest.log_text() or "BadName" in ingest.log_text()


def test_wrong_app_is_refused(tmp_path, alice_room, alice_key):
    with ingest_process(tmp_path) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key, app="other"), seconds=3)
        assert publisher.wait(timeout=20) != 0
        assert room_status(alice_room) == "offline"


def test_rotated_key_drops_live_connection(tmp_path, alice, alice_room, alice_key):
    with ingest_process(tmp_path) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        services.rotate_stream_key(alice_room, alice)
        assert publisher.wait(timeout=10) != 0
        assert "stream key rotated" in ingest.log_text()
        # The old key is dead for a new connection too.
        retry = ffmpeg_publish(ingest.url(alice_key), seconds=3)
        assert retry.wait(timeout=20) != 0


def test_second_connection_to_a_live_room_is_refused(tmp_path, alice_room, alice_key):
    with ingest_process(tmp_path) as ingest:
        first = ffmpeg_publish(ingest.url(alice_key), seconds=12)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        second = ffmpeg_publish(ingest.url(alice_key), seconds=3)
        assert second.wait(timeout=20) != 0
        assert first.poll() is None
        first.terminate()
        first.wait(timeout=10)


def test_reconnect_within_grace_continues_the_stream(tmp_path, alice_room, alice_key):
    with ingest_process(tmp_path, {"INGEST_RECONNECT_GRACE": "8"}) as ingest:
        assert ffmpeg_publish(ingest.url(alice_key), seconds=4).wait(timeout=30) == 0
        assert room_status(alice_room) == "live"
        assert ffmpeg_publish(ingest.url(alice_key), seconds=4).wait(timeout=30) == 0
        output = ingest.hls_root / alice_room.slug
        text = (output / "source" / "index.m3u8").read_text()
        assert "#EXT-X-DISCONTINUITY" in text
        assert Stream.objects.filter(room=alice_room).count() == 1
        assert room_status(alice_room) == "live"
        wait_for(lambda: room_status(alice_room) == "ended", timeout=20)


def test_crashed_transcoder_is_restarted(tmp_path, alice_room, alice_key):
    import os
    import signal

    with ingest_process(tmp_path) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=10)
        output = ingest.hls_root / alice_room.slug
        wait_for(lambda: (output / "source" / "index.m3u8").exists(), timeout=20)
        transcoders = _transcoder_pids(output)
        os.kill(transcoders[0], signal.SIGKILL)
        assert publisher.wait(timeout=30) == 0
        assert "transcoder died while live" in ingest.log_text()
        playlist = media_playlist(output, "source")
        restarted = any(segment.discontinuity for segment in playlist.segments)
        assert restarted or playlist.discontinuity_sequence > 0
        # The restarted transcoder got the codec set-up and started at a keyframe.
        last = inspect_segment(output / "source" / playlist.segments[-1].uri)
        assert last.first_frame_is_keyframe and last.decoded_frames > 0
        # Why it died is kept for the stream manager and the admin.
        incident = StreamIncident.objects.get(stream__room=alice_room)
        assert incident.kind == StreamIncident.Kind.TRANSCODER_DIED
        assert "exit status -9" in incident.detail


def test_stop_ends_the_stream_and_refuses_publishing_until_start(
    tmp_path, alice, alice_room, alice_key
):
    with ingest_process(tmp_path, {"INGEST_RECONNECT_GRACE": "30"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        playlist = ingest.hls_root / alice_room.slug / "source" / "index.m3u8"
        wait_for(playlist.exists, timeout=20)  # a segment is recorded
        started = time.monotonic()
        services.stop_room(alice_room, alice)
        assert publisher.wait(timeout=10) != 0  # dropped, no 30 s grace
        assert time.monotonic() - started < 10
        assert room_status(alice_room) == "ended"
        assert "stopped by its owner" in ingest.log_text()
        # The ingest closed the stream itself: its replay was kept.
        wait_for(lambda: Stream.objects.get(room=alice_room).replay_ready, timeout=10)
        refused = ffmpeg_publish(ingest.url(alice_key), seconds=3)
        assert refused.wait(timeout=20) != 0
        assert room_status(alice_room) == "ended"

        services.start_room(alice_room, alice)
        # Long enough to still be publishing when a loaded machine gets round to seeing it live.
        again = ffmpeg_publish(ingest.url(alice_key), seconds=8)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        assert again.wait(timeout=40) == 0
        assert Stream.objects.filter(room=alice_room).count() == 2


def test_stop_then_start_before_the_ingest_looks_still_ends_the_stream(
    tmp_path, alice, alice_room, alice_key
):
    with ingest_process(tmp_path, {"INGEST_RECONNECT_GRACE": "30"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        services.stop_room(alice_room, alice)
        services.start_room(alice_room, alice)  # within one check of the ingest
        assert publisher.wait(timeout=10) != 0
        # Usually the ingest's next check sees the new stream id; on a loaded machine it may
        # land between the two clicks and see the Stop itself. Either way the stream ends.
        log = ingest.log_text()
        assert "its stream ended elsewhere" in log or "stopped by its owner" in log
        # Long enough to still be publishing when a loaded machine gets round to seeing it live.
        again = ffmpeg_publish(ingest.url(alice_key), seconds=8)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        assert again.wait(timeout=40) == 0
        assert Stream.objects.filter(room=alice_room).count() == 2


def test_a_live_ingest_keeps_its_room_past_the_lock_lifetime(
    tmp_path, settings, redis_url, alice_room, alice_key
):
    from streaming.tasks import end_abandoned_streams

    settings.INGEST_LOCK_TTL = 3
    with ingest_process(tmp_path, {"INGEST_LOCK_TTL": "3"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        time.sleep(4)  # older than the lock's lifetime: only the renewed lock keeps it
        assert end_abandoned_streams() == 0
        assert room_status(alice_room) == "live"
        publisher.terminate()
        publisher.wait(timeout=10)


def test_an_ingest_that_lost_its_live_lock_drops_its_publisher(
    tmp_path, settings, redis_url, alice_room, alice_key
):
    """As after a Redis failover that lost the lock: another ingest holds the room now
    (a larger fence, another token), so this one stops publishing it at its next renewal."""
    import redis

    with ingest_process(tmp_path, {"INGEST_LOCK_TTL": "3"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        try:
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
            client = redis.Redis.from_url(redis_url)
            key = live_lock_key(alice_room.pk)
            held = client.get(key).decode()
            fence = int(held.split(":")[0])
            client.set(key, f"{fence + 1}:another-ingest", px=10_000)
            wait_for(lambda: "live lock lost" in ingest.log_text(), timeout=5)
            assert publisher.wait(timeout=10) is not None  # the ingest closed its connection
            assert client.get(key) == f"{fence + 1}:another-ingest".encode()
            client.delete(key)
        finally:
            publisher.kill()
            publisher.wait(timeout=10)
    incident = StreamIncident.objects.filter(stream__room=alice_room).get()
    assert incident.kind == StreamIncident.Kind.PUBLISHER_DROPPED


def test_an_ingest_whose_stream_was_taken_over_stops_at_its_next_check_not_its_renewal(
    tmp_path, alice_room, alice_key
):
    """The database is the durable fence: after a Redis failover lost this ingest's lock,
    the ingest that took the room starts a new stream (`start_stream(replace_stale=True)`, a
    new, larger stream id). This one sees at its next watch (INGEST_KEY_CHECK_MS, 1 s) that
    the room's stream is no longer its own and stops, long before its lock renewal would
    tell it, and it ends nothing of the new holder's."""
    with ingest_process(tmp_path, {"INGEST_LOCK_TTL": "60"}) as ingest:  # renewal: every 20 s
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        try:
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
            alice_room.refresh_from_db()
            new_stream = services.start_stream(alice_room, replace_stale=True)  # as ingest B
            began = time.monotonic()
            wait_for(lambda: publisher.poll() is not None, timeout=10)
            assert time.monotonic() - began < 10
            assert "its stream ended elsewhere" in ingest.log_text()
        finally:
            publisher.kill()
            publisher.wait(timeout=10)
        time.sleep(1.5)  # the ingest's own end of its stream, had it been wrong, happens now
    alice_room.refresh_from_db()
    assert alice_room.current_stream_id == new_stream.pk
    assert alice_room.status == Room.Status.LIVE
    assert Stream.objects.get(pk=new_stream.pk).ended_at is None


def test_a_room_left_live_by_a_killed_ingest_is_ended(tmp_path, settings, alice_room, alice_key):
    from streaming.ingest.live_lock import LocalLiveLock
    from streaming.tasks import end_abandoned_streams

    settings.INGEST_LOCK_TTL = 3
    with ingest_process(tmp_path, {"INGEST_LOCK_TTL": "3"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        ingest.process.kill()
        ingest.process.wait(timeout=10)
        publisher.kill()
        publisher.wait(timeout=10)
    assert room_status(alice_room) == "live"  # nobody ended it...
    # Without Redis the task runs where the ingest runs (`manage.py serve`): a restarted
    # one has an ingest (a local lock) that holds nothing.
    restarted = None if settings.REDIS_URL else LocalLiveLock(3)
    wait_for(lambda: end_abandoned_streams() == 1, timeout=15, interval=1)
    assert room_status(alice_room) == "ended"  # ...until the periodic task did
    incident = StreamIncident.objects.get(stream__room=alice_room)
    assert incident.kind == StreamIncident.Kind.ABANDONED
    del restarted


def test_a_publish_after_a_killed_ingest_starts_a_new_stream(tmp_path, alice_room, alice_key):
    with ingest_process(tmp_path, {"INGEST_LOCK_TTL": "3"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=30)
        wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        ingest.process.kill()
        ingest.process.wait(timeout=10)
        publisher.kill()
        publisher.wait(timeout=10)
    time.sleep(3.5)  # the dead ingest's lock expires (Redis), or died with it
    with ingest_process(tmp_path / "again", {"INGEST_LOCK_TTL": "3"}) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=3)
        assert publisher.wait(timeout=30) == 0
    first, second = Stream.objects.filter(room=alice_room).order_by("pk")
    assert first.ended_at is not None and first.incidents.get().kind == "abandoned"
    assert second.pk == Room.objects.get(pk=alice_room.pk).current_stream_id or second.ended_at


def test_the_stream_health_of_a_real_publish_reaches_the_web(
    tmp_path, redis_url, alice_room, alice_key
):
    """The ingest (another process) reports through Redis what the stream manager shows."""
    from rooms import cache as room_cache

    with ingest_process(tmp_path) as ingest:
        publisher = ffmpeg_publish(ingest.url(alice_key), seconds=10)
        wait_for(lambda: room_cache.health(alice_room.pk) is not None, timeout=20)
        health = room_cache.health(alice_room.pk)
        assert (health["width"], health["height"]) == (320, 240)
        assert (health["video_codec"], health["audio_codec"]) == ("h264", "aac")
        assert health["input_bitrate"] > 0 and health["fps"] > 0
        publisher.terminate()
        publisher.wait(timeout=10)


def _transcoder_pids(output) -> list[int]:
    import subprocess

    found = subprocess.run(
        ["pgrep", "-f", f"streaming.transcoder --output {output}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return [int(pid) for pid in found.stdout.split()]
