"""Segment length, the live window and the recording."""

import pytest

from streaming.transcoder.rendition_playlist import end_live_playlists
from streaming.transcoder.tests.hls_inspection import (
    inspect_segment,
    media_playlist,
)
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media


def test_one_second_segments(one_second_keyframes_broadcast, tmp_path):
    run = transcode(
        one_second_keyframes_broadcast, tmp_path, "--segment-seconds", "1", "--ladder", "240"
    )
    assert run.exit_status == 0, run.stderr
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert playlist.target_duration == 1
        assert [s.duration for s in playlist.segments] == [1.0] * 6
        for segment in playlist.segments:
            assert inspect_segment(tmp_path / name / segment.uri).first_frame_is_keyframe


def test_copied_source_cannot_cut_between_its_keyframes(h264_broadcast, tmp_path):
    # Keyframes every 2 s: a 1 s target cuts at the next keyframe, and every rendition
    # follows so that they stay aligned; EXTINF and the target duration say so.
    run = transcode(h264_broadcast, tmp_path, "--segment-seconds", "1", "--ladder", "240")
    assert run.exit_status == 0, run.stderr
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert playlist.target_duration == 2
        assert [s.duration for s in playlist.segments] == [2.0, 2.0, 1.0]


def test_renditions_follow_irregular_source_keyframes(irregular_keyframes_broadcast, tmp_path):
    # The encoders would put keyframes at 2 s and 4 s by themselves; the copied source
    # can only cut at 3 s, so the encoders must be told to put one there instead.
    run = transcode(irregular_keyframes_broadcast, tmp_path, "--ladder", "240")
    assert run.exit_status == 0, run.stderr
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert [s.duration for s in playlist.segments] == [3.0, 3.0]
        for segment in playlist.segments:
            assert inspect_segment(tmp_path / name / segment.uri).first_frame_is_keyframe


def test_encoded_renditions_do_not_copy_source_keyframes(frequent_keyframes_broadcast, tmp_path):
    # A decoded frame remembers it was an I frame in the source; libx264 would obey.
    run = transcode(frequent_keyframes_broadcast, tmp_path, "--ladder", "240")
    assert run.exit_status == 0, run.stderr
    assert inspect_segment(tmp_path / "source" / "seg_0.m4s").keyframes == 4
    for segment in media_playlist(tmp_path, "240p").segments:
        assert inspect_segment(tmp_path / "240p" / segment.uri).keyframes == 1


def test_live_window_slides_and_old_segments_are_deleted(
    one_second_keyframes_broadcast, tmp_path
):
    run = transcode(
        one_second_keyframes_broadcast, tmp_path, "--segment-seconds", "1", "--window", "2"
    )
    assert run.exit_status == 0, run.stderr
    playlist = media_playlist(tmp_path, "source")
    assert playlist.media_sequence == 4
    assert [s.uri for s in playlist.segments] == ["seg_4.m4s", "seg_5.m4s"]
    # Two segments that left the window stay for late players; older ones are gone.
    on_disk = sorted(p.name for p in (tmp_path / "source").glob("seg_*.m4s"))
    assert on_disk == ["seg_2.m4s", "seg_3.m4s", "seg_4.m4s", "seg_5.m4s"]
    assert not (tmp_path / "source" / "vod.m3u8").exists()


def test_recording_lists_every_segment_and_ends(one_second_keyframes_broadcast, tmp_path):
    run = transcode(
        one_second_keyframes_broadcast,
        tmp_path,
        *("--segment-seconds", "1", "--window", "2", "--keep-recording", "--ladder", "240"),
    )
    assert run.exit_status == 0, run.stderr
    for name in ("source", "240p"):
        recording = media_playlist(tmp_path, name, "vod.m3u8")
        assert recording.playlist_type == "VOD" and recording.ended
        assert [s.uri for s in recording.segments] == [f"seg_{n}.m4s" for n in range(6)]
        assert all((tmp_path / name / s.uri).exists() for s in recording.segments)
        assert sum(s.duration for s in recording.segments) == pytest.approx(6.0, abs=0.05)
        live = media_playlist(tmp_path, name)
        assert len(live.segments) == 2 and not live.ended


def test_ending_the_live_playlists_adds_endlist(h264_broadcast, tmp_path):
    transcode(h264_broadcast, tmp_path, "--ladder", "240")
    end_live_playlists(tmp_path)
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert playlist.ended and len(playlist.segments) == 3
        assert (tmp_path / name / "index.m3u8").read_text().endswith("#EXT-X-ENDLIST\n")
