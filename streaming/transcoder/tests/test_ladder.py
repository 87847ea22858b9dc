"""A 720p broadcast gets the source plus encoded 480p and 360p renditions that
players can switch between at any segment boundary."""

import pytest

from streaming.transcoder.tests.hls_inspection import (
    inspect_segment,
    master_variants,
    media_playlist,
)
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media

RENDITIONS = {"source": (1280, 720), "480p": (854, 480), "360p": (640, 360)}


@pytest.fixture(scope="module")
def published(hd_broadcast, tmp_path_factory):
    output = tmp_path_factory.mktemp("ladder")
    run = transcode(hd_broadcast, output)
    assert run.exit_status == 0, run.stderr
    return run, output


def test_ladder_stops_below_the_source_height(published):
    run, _ = published
    renditions = run.events[0]["renditions"]
    assert [(r["name"], r["width"], r["height"], r["copy"]) for r in renditions] == [
        ("source", 1280, 720, True),
        ("480p", 854, 480, False),
        ("360p", 640, 360, False),
    ]


def test_master_playlist_lists_every_rendition(published):
    _, output = published
    variants = master_variants(output)
    assert list(variants) == ["source", "480p", "360p"]
    for name, (width, height) in RENDITIONS.items():
        attributes = variants[name]
        assert attributes["RESOLUTION"] == f"{width}x{height}"
        video_codec, audio_codec = attributes["CODECS"].split(",")
        assert video_codec.startswith("avc1.64")  # High profile
        assert audio_codec == "mp4a.40.2"
        assert attributes["FRAME-RATE"] == "30.000"
        assert int(attributes["BANDWIDTH"]) >= int(attributes["AVERAGE-BANDWIDTH"]) > 0
    # Encoded renditions promise their VBV ceiling: 854x480x30x0.1 bit + 128k audio.
    assert int(variants["480p"]["BANDWIDTH"]) >= 1_358_000
    assert int(variants["source"]["AVERAGE-BANDWIDTH"]) > int(
        variants["480p"]["AVERAGE-BANDWIDTH"]
    ) > int(variants["360p"]["AVERAGE-BANDWIDTH"])


def test_every_segment_decodes_at_its_rendition_size_with_audio(published):
    _, output = published
    for name, size in RENDITIONS.items():
        for segment in media_playlist(output, name).segments:
            contents = inspect_segment(output / name / segment.uri)
            assert contents.codec == "h264"
            assert (contents.width, contents.height) == size
            assert contents.video_duration == pytest.approx(segment.duration, abs=0.05)
            assert contents.audio_codec == "aac" and contents.audio_packets > 0


def test_every_segment_of_every_rendition_starts_with_a_keyframe(published):
    _, output = published
    for name in RENDITIONS:
        for segment in media_playlist(output, name).segments:
            contents = inspect_segment(output / name / segment.uri)
            assert contents.first_packet_is_keyframe, (name, segment.uri)
            assert contents.first_frame_is_keyframe, (name, segment.uri)


def test_renditions_cut_at_the_same_moments(published):
    _, output = published
    cuts = {}
    for name in RENDITIONS:
        segments = media_playlist(output, name).segments
        cuts[name] = [
            (s.duration, round(inspect_segment(output / name / s.uri).video_start, 3))
            for s in segments
        ]
    assert cuts["source"] == cuts["480p"] == cuts["360p"]
    assert sum(duration for duration, _ in cuts["source"]) == pytest.approx(5.0, abs=0.05)


def test_audio_is_split_where_the_video_is_in_every_rendition(published):
    _, output = published
    audio_spans = {}
    for name in RENDITIONS:
        spans = []
        for segment in media_playlist(output, name).segments:
            contents = inspect_segment(output / name / segment.uri)
            # Audio starts with the first AAC frame (23 ms) at or after the keyframe.
            assert 0 <= contents.audio_start - contents.video_start < 0.024, (name, segment)
            spans.append((round(contents.audio_start, 3), round(contents.audio_end, 3)))
        audio_spans[name] = spans
    assert audio_spans["source"] == audio_spans["480p"] == audio_spans["360p"]
