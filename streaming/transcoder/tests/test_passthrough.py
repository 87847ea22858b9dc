"""A browser-ready broadcast (H.264 + AAC) is published as it is, without re-encoding."""

import av
import pytest

from streaming.transcoder.tests.hls_inspection import (
    inspect_segment,
    leftover_temporary_files,
    master_variants,
    media_playlist,
    rendition_segments,
    slice_nal_units_in_flv,
    slice_nal_units_in_segments,
)
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def published(h264_broadcast, tmp_path_factory):
    output = tmp_path_factory.mktemp("passthrough")
    return transcode(h264_broadcast, output), output


def test_source_video_is_copied_byte_for_byte(published, h264_broadcast):
    run, output = published
    assert run.exit_status == 0, run.stderr
    copied = slice_nal_units_in_segments(rendition_segments(output, "source"))
    assert copied == slice_nal_units_in_flv(h264_broadcast)


def test_started_event_announces_a_copied_source(published):
    run, _ = published
    started = run.events[0]
    assert started["event"] == "started"
    assert started["video_codec"] == "h264"
    assert started["audio_codec"] == "aac"
    assert (started["width"], started["height"]) == (640, 360)
    assert started["renditions"] == [
        {"name": "source", "width": 640, "height": 360, "copy": True}
    ]


def test_master_playlist_describes_the_source(published):
    _, output = published
    variants = master_variants(output)
    assert list(variants) == ["source"]
    source = variants["source"]
    assert source["RESOLUTION"] == "640x360"
    # testsrc2 through libx264 veryfast: High profile (0x64), level 3.0 (0x1e).
    assert source["CODECS"] == "avc1.64001e,mp4a.40.2"
    assert source["FRAME-RATE"] == "30.000"
    assert int(source["BANDWIDTH"]) >= int(source["AVERAGE-BANDWIDTH"]) > 100_000


def test_media_playlist_covers_the_whole_broadcast(published):
    _, output = published
    playlist = media_playlist(output, "source")
    assert playlist.target_duration == 2
    assert playlist.media_sequence == 0
    assert not playlist.ended  # the broadcaster may still reconnect
    assert sum(s.duration for s in playlist.segments) == pytest.approx(5.0, abs=0.05)


def test_segments_start_with_a_keyframe_and_carry_audio(published):
    _, output = published
    playlist = media_playlist(output, "source")
    for segment in playlist.segments:
        contents = inspect_segment(output / "source" / segment.uri)
        assert contents.first_packet_is_keyframe and contents.first_frame_is_keyframe
        assert contents.video_duration == pytest.approx(segment.duration, abs=0.05)
        assert contents.audio_codec == "aac" and contents.audio_packets > 0


def test_segment_events_match_the_playlist(published):
    run, output = published
    events = run.of_kind("segment")
    playlist = media_playlist(output, "source")
    assert [(e["sequence"], e["duration"]) for e in events] == [
        (s.sequence, round(s.duration, 3)) for s in playlist.segments
    ]
    assert all((output / e["uri"]).stat().st_size == e["bytes"] for e in events)


def test_health_events_describe_what_arrives(published):
    run, _ = published
    health = run.of_kind("health")[-1]
    assert (health["width"], health["height"]) == (640, 360)
    assert (health["video_codec"], health["audio_codec"]) == ("h264", "aac")
    assert health["fps"] == pytest.approx(30, abs=1)
    assert health["keyframe_interval"] == pytest.approx(2.0, abs=0.05)
    assert health["input_bitrate"] > 100_000
    assert health["speed"] > 0
    assert health["corrupt_packets"] == health["dropped_packets"] == 0


def test_run_ends_cleanly_at_end_of_input(published):
    run, output = published
    assert run.ended["reason"] == "eof"
    assert run.ended["segments"] == len(run.of_kind("segment"))
    assert leftover_temporary_files(output) == []


def test_thumbnail_is_a_small_jpeg(published):
    _, output = published
    data = (output / "thumbnail.jpg").read_bytes()
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    with av.open(str(output / "thumbnail.jpg")) as image:
        frame = next(image.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)
