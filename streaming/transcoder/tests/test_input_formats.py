"""Broadcasts a browser cannot play as they are get re-encoded to H.264/AAC."""

import pytest

from streaming.transcoder.tests.hls_inspection import (
    inspect_segment,
    master_variants,
    media_playlist,
)
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media


def test_hevc_source_is_transcoded_to_h264(hevc_broadcast, tmp_path):
    run = transcode(hevc_broadcast, tmp_path, "--ladder", "240")
    assert run.exit_status == 0, run.stderr
    assert run.events[0]["video_codec"] == "hevc"
    assert [r["copy"] for r in run.events[0]["renditions"]] == [False, False]
    variants = master_variants(tmp_path)
    assert variants["source"]["CODECS"].startswith("avc1.64")
    assert variants["source"]["RESOLUTION"] == "640x360"
    for name, size in {"source": (640, 360), "240p": (426, 240)}.items():
        playlist = media_playlist(tmp_path, name)
        assert sum(s.duration for s in playlist.segments) == pytest.approx(4.0, abs=0.05)
        for segment in playlist.segments:
            contents = inspect_segment(tmp_path / name / segment.uri)
            assert contents.codec == "h264"
            assert (contents.width, contents.height) == size
            assert contents.first_frame_is_keyframe
            assert contents.audio_codec == "aac"


def test_mp3_audio_is_transcoded_to_aac(mp3_broadcast, tmp_path):
    run = transcode(mp3_broadcast, tmp_path)
    assert run.exit_status == 0, run.stderr
    assert run.events[0]["audio_codec"].startswith("mp3")
    assert run.events[0]["renditions"][0]["copy"] is True  # the video is still copied
    assert master_variants(tmp_path)["source"]["CODECS"] == "avc1.64001e,mp4a.40.2"
    for segment in media_playlist(tmp_path, "source").segments:
        contents = inspect_segment(tmp_path / "source" / segment.uri)
        assert contents.audio_codec == "aac" and contents.audio_packets > 0


def test_video_only_broadcast_plays_without_audio(video_only_broadcast, tmp_path):
    run = transcode(video_only_broadcast, tmp_path, "--ladder", "240")
    assert run.exit_status == 0, run.stderr
    assert run.events[0]["audio_codec"] is None
    variants = master_variants(tmp_path)
    assert variants["source"]["CODECS"] == "avc1.64001e"
    assert variants["240p"]["CODECS"].startswith("avc1.64")
    assert "," not in variants["240p"]["CODECS"]
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert sum(s.duration for s in playlist.segments) == pytest.approx(4.0, abs=0.05)
        for segment in playlist.segments:
            contents = inspect_segment(tmp_path / name / segment.uri)
            assert contents.audio_codec is None and contents.first_frame_is_keyframe
