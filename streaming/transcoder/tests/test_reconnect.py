"""A broadcaster who reconnects within the grace period continues the same stream:
the new transcoder picks up the playlists viewers are already playing."""

import pytest

from streaming.transcoder.tests.hls_inspection import media_playlist
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media

ONE_SECOND_SEGMENTS = ("--segment-seconds", "1", "--ladder", "240")


def test_reconnect_continues_numbering_after_a_discontinuity(
    one_second_keyframes_broadcast, tmp_path
):
    first = transcode(one_second_keyframes_broadcast, tmp_path, *ONE_SECOND_SEGMENTS)
    second = transcode(
        one_second_keyframes_broadcast,
        tmp_path,
        *ONE_SECOND_SEGMENTS,
        *("--window", "8", "--discontinuity"),
    )
    assert first.exit_status == second.exit_status == 0, second.stderr
    assert second.events[0]["discontinuity"] is True
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert [s.sequence for s in playlist.segments] == list(range(4, 12))
        assert [s.discontinuity for s in playlist.segments] == [False] * 2 + [True] + [False] * 5
        assert playlist.discontinuity_sequence == 0
        text = (tmp_path / name / "index.m3u8").read_text()
        # The new run's segments name its own init segment.
        assert 'seg_5.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init_6.mp4"\n' in text
    first_new = next(e for e in second.of_kind("segment") if e["rendition"] == "source")
    assert (first_new["sequence"], first_new["discontinuity"]) == (6, True)


def test_discontinuity_sequence_counts_tags_that_left_the_window(
    one_second_keyframes_broadcast, tmp_path
):
    transcode(one_second_keyframes_broadcast, tmp_path, *ONE_SECOND_SEGMENTS, "--window", "3")
    second = transcode(
        one_second_keyframes_broadcast,
        tmp_path,
        *ONE_SECOND_SEGMENTS,
        *("--window", "3", "--discontinuity"),
    )
    assert second.exit_status == 0, second.stderr
    playlist = media_playlist(tmp_path, "source")
    assert playlist.media_sequence == 9
    assert playlist.discontinuity_sequence == 1
    assert not any(s.discontinuity for s in playlist.segments)


def test_reconnect_extends_the_recording(one_second_keyframes_broadcast, tmp_path):
    options = (*ONE_SECOND_SEGMENTS, "--window", "3", "--keep-recording")
    transcode(one_second_keyframes_broadcast, tmp_path, *options)
    second = transcode(one_second_keyframes_broadcast, tmp_path, *options, "--discontinuity")
    assert second.exit_status == 0, second.stderr
    recording = media_playlist(tmp_path, "240p", "vod.m3u8")
    assert [s.sequence for s in recording.segments] == list(range(12))
    assert [s.discontinuity for s in recording.segments] == [False] * 6 + [True] + [False] * 5
    assert recording.ended and recording.playlist_type == "VOD"
    assert all((tmp_path / "240p" / s.uri).exists() for s in recording.segments)


def test_first_run_with_discontinuity_flag_starts_fresh(h264_broadcast, tmp_path):
    run = transcode(h264_broadcast, tmp_path, "--discontinuity")
    assert run.exit_status == 0, run.stderr
    playlist = media_playlist(tmp_path, "source")
    assert playlist.media_sequence == 0
    assert not any(s.discontinuity for s in playlist.segments)


def test_continuing_another_machines_run_numbers_after_it_with_a_discontinuity(
    one_second_keyframes_broadcast, tmp_path
):
    """An ingest that died: the stream continues on another machine, whose folder is
    empty; players that counted 41 segments and 2 discontinuities there read on."""
    run = transcode(
        one_second_keyframes_broadcast,
        tmp_path,
        *ONE_SECOND_SEGMENTS,
        *("--window", "8", "--continue-after", "41:2"),
    )
    assert run.exit_status == 0, run.stderr
    assert run.events[0]["discontinuity"] is True
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert [s.sequence for s in playlist.segments] == list(range(42, 48))
        assert [s.discontinuity for s in playlist.segments] == [True] + [False] * 5
        assert playlist.discontinuity_sequence == 2
    first = next(e for e in run.of_kind("segment") if e["rendition"] == "source")
    assert (first["sequence"], first["discontinuity"]) == (42, True)


def test_continuing_after_slides_the_discontinuity_out_like_a_reconnect(
    one_second_keyframes_broadcast, tmp_path
):
    run = transcode(
        one_second_keyframes_broadcast,
        tmp_path,
        *ONE_SECOND_SEGMENTS,
        *("--window", "3", "--continue-after", "41:2"),
    )
    assert run.exit_status == 0, run.stderr
    playlist = media_playlist(tmp_path, "source")
    assert playlist.media_sequence == 45
    assert playlist.discontinuity_sequence == 3
    assert not any(s.discontinuity for s in playlist.segments)


@pytest.mark.parametrize("value", ["41", "x:1", "-1:0", "4:-2", "4:2:1", ""])
def test_continue_after_refuses_anything_but_two_whole_numbers(value):
    from streaming.transcoder.options import parse_options

    with pytest.raises(SystemExit):
        parse_options(["--output", "out", "--continue-after", value])
