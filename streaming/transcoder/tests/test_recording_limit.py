"""The recording of a stream that never ends is capped (--max-recording-seconds)."""

from streaming.transcoder.rendition_playlist import (
    RECORDING_LOG,
    RenditionPlaylist,
    read_recording_log,
)


def publish(playlist: RenditionPlaylist, folder, count: int, duration: float = 1.0) -> None:
    playlist.start_run(b"init")
    for _ in range(count):
        playlist.publish_part(
            b"part", duration, independent=True, program_date_time="2026-12-03T07:00:00Z"
        )
        playlist.publish_segment(duration)


def on_disk(directory) -> set[int]:
    return {int(path.stem.split("_")[1]) for path in directory.glob("seg_*.m4s")}


def test_the_recording_keeps_about_the_last_max_seconds(tmp_path):
    directory = tmp_path / "source"
    playlist = RenditionPlaylist(
        directory, window=3, keep_recording=True, segment_seconds=1, max_recording_seconds=10
    )
    publish(playlist, tmp_path, 40)
    recorded = read_recording_log(directory)
    assert 10 <= len(recorded) <= 11  # trimmed to 10 s once it passed 11 s
    assert recorded[-1].sequence == 39
    assert [s.sequence for s in recorded] == list(range(40 - len(recorded), 40))
    # Nothing older than the recording or the live window's slack stays on disk.
    assert on_disk(directory) == {s.sequence for s in recorded}
    playlist.finish()
    vod = (directory / "vod.m3u8").read_text()
    assert f"#EXT-X-MEDIA-SEQUENCE:{recorded[0].sequence}" in vod
    assert "#EXT-X-ENDLIST" in vod


def test_without_a_limit_everything_is_kept(tmp_path):
    directory = tmp_path / "source"
    playlist = RenditionPlaylist(directory, window=3, keep_recording=True, segment_seconds=1)
    publish(playlist, tmp_path, 30)
    assert len(read_recording_log(directory)) == 30
    assert on_disk(directory) == set(range(30))


def test_without_recording_only_the_window_and_its_slack_stay(tmp_path):
    directory = tmp_path / "source"
    playlist = RenditionPlaylist(directory, window=3, keep_recording=False, segment_seconds=1)
    publish(playlist, tmp_path, 30)
    assert on_disk(directory) == set(range(24, 30))
    assert not (directory / RECORDING_LOG).exists()
