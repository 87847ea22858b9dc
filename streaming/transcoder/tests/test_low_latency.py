"""Every rendition is Low-Latency HLS that a standard parser reads (the `m3u8` package)."""

import io

import av
import m3u8
import pytest

from streaming.transcoder.tests.hls_inspection import init_segment_for, inspect_segment
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media

RENDITIONS = ("source", "240p")


@pytest.fixture(scope="module")
def published(h264_broadcast, tmp_path_factory):
    output = tmp_path_factory.mktemp("low-latency")
    run = transcode(h264_broadcast, output, "--ladder", "240", "--part-seconds", "0.5")
    assert run.exit_status == 0, run.stderr
    return output


def load(output, rendition) -> m3u8.M3U8:
    return m3u8.loads((output / rendition / "index.m3u8").read_text())


@pytest.mark.parametrize("rendition", RENDITIONS)
def test_playlist_declares_blocking_reload_and_parts(published, rendition):
    playlist = load(published, rendition)
    assert int(playlist.version) >= 9
    assert playlist.server_control.can_block_reload == "YES"
    part_target = playlist.part_inf.part_target
    assert part_target == pytest.approx(0.5, abs=0.05)
    assert playlist.server_control.part_hold_back >= 3 * part_target
    assert playlist.server_control.can_skip_until >= 6 * playlist.target_duration
    assert playlist.segments[0].init_section.uri.startswith("init_")
    assert playlist.segments[0].program_date_time is not None
    assert playlist.preload_hint.hint_type == "PART"


@pytest.mark.parametrize("rendition", RENDITIONS)
def test_parts_are_short_start_independent_and_add_up_to_their_segment(published, rendition):
    playlist = load(published, rendition)
    with_parts = [segment for segment in playlist.segments if segment.parts]
    assert len(with_parts) >= 2
    for segment in with_parts:
        assert all(p.duration <= playlist.part_inf.part_target for p in segment.parts)
        assert segment.parts[0].independent == "YES"
        assert not any(p.independent for p in segment.parts[1:])
        assert sum(p.duration for p in segment.parts) == pytest.approx(segment.duration, abs=0.01)


def test_parts_line_up_across_renditions(published):
    durations = [
        [[p.duration for p in s.parts] for s in load(published, name).segments]
        for name in RENDITIONS
    ]
    assert durations[0] == durations[1]


def test_each_rendition_reports_the_others(published):
    report = load(published, "source").rendition_reports[0]
    assert report.uri == "../240p/index.m3u8"
    assert report.last_msn == load(published, "240p").segments[-1].media_sequence


@pytest.mark.parametrize("rendition", RENDITIONS)
def test_a_part_plays_with_its_init_segment(published, rendition):
    playlist = load(published, rendition)
    segment = [s for s in playlist.segments if s.parts][-1]
    first, middle = segment.parts[0], segment.parts[len(segment.parts) // 2]
    assert inspect_segment(published / rendition / first.uri).first_frame_is_keyframe
    # A later part starts mid-GOP: it demuxes on its own, a player decodes it in turn.
    path = published / rendition / middle.uri
    with av.open(io.BytesIO(init_segment_for(path) + path.read_bytes())) as container:
        kinds = [container.streams[p.stream_index].type for p in container.demux() if p.size]
    assert kinds.count("video") == pytest.approx(15, abs=1) and "audio" in kinds


def test_old_parts_are_neither_listed_nor_kept(one_second_keyframes_broadcast, tmp_path):
    transcode(one_second_keyframes_broadcast, tmp_path, "--segment-seconds", "1")
    playlist = load(tmp_path, "source")
    listed = {p.uri for s in playlist.segments for p in s.parts}
    assert [bool(s.parts) for s in playlist.segments] == [False] * 3 + [True] * 3
    on_disk = {p.name for p in (tmp_path / "source").glob("part_*.m4s")}
    assert listed <= on_disk
    assert not any(name.startswith("part_0_") for name in on_disk)


def test_a_run_killed_mid_segment_is_continued_with_a_discontinuity(tmp_path):
    from streaming.transcoder.rendition_playlist import RenditionPlaylist

    def run():
        return RenditionPlaylist(tmp_path, window=6, keep_recording=True, segment_seconds=2)

    killed = run()
    killed.start_run(b"old init")
    killed.publish_part(b"old", 0.333, independent=True, program_date_time="2026-12-03T07:00Z")
    assert (tmp_path / "part_0_0.m4s").exists()
    restarted = run()
    assert restarted.continue_existing()
    restarted.start_run(b"new init")
    assert not (tmp_path / "part_0_0.m4s").exists()
    restarted.publish_part(b"new", 2.0, independent=True, program_date_time="2026-12-03T07:01Z")
    segment, _ = restarted.publish_segment(2.0)
    assert (segment.sequence, segment.discontinuity) == (0, True)
    assert (tmp_path / "seg_0.m4s").read_bytes() == b"new"
