"""Damaged or cut-off input ends the stream cleanly instead of crashing it."""

import errno
import io
import json

import pytest

from streaming.transcoder.events import EventStream
from streaming.transcoder.options import TranscodeOptions
from streaming.transcoder.pipeline import run_transcoder
from streaming.transcoder.tests.broadcasts import damaged_copy, truncated_copy
from streaming.transcoder.tests.hls_inspection import (
    inspect_segment,
    leftover_temporary_files,
    master_variants,
    media_playlist,
)
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.media


@pytest.mark.parametrize("flipped_bytes", [2_000, 60_000])
def test_corrupt_bytes_mid_stream_still_publish_a_playable_stream(
    hd_broadcast, tmp_path, flipped_bytes
):
    broadcast = damaged_copy(hd_broadcast, tmp_path / "damaged.flv", flipped_bytes=flipped_bytes)
    output = tmp_path / "hls"
    run = transcode(broadcast, output)
    assert run.exit_status == 0, run.stderr
    assert run.ended["reason"] == "eof"
    health = run.of_kind("health")[-1]
    damage = health["corrupt_packets"] + health["corrupt_frames"] + health["decode_errors"]
    assert damage + health["dropped_packets"] > 0  # the damage was noticed and counted
    assert set(master_variants(output)) == {"source", "480p", "360p"}
    for name in ("source", "480p", "360p"):
        playlist = media_playlist(output, name)
        # A few frames of damage may be lost, never the stream.
        assert sum(s.duration for s in playlist.segments) == pytest.approx(5.0, abs=0.5)
        for segment in playlist.segments:
            contents = inspect_segment(output / name / segment.uri)
            assert contents.first_frame_is_keyframe and contents.decoded_frames > 0


def test_truncated_input_publishes_what_arrived(h264_broadcast, tmp_path):
    broadcast = truncated_copy(h264_broadcast, tmp_path / "cut.flv", keep=0.6)
    output = tmp_path / "hls"
    run = transcode(broadcast, output, "--ladder", "240")
    assert run.exit_status == 0, run.stderr
    assert run.ended["reason"] == "eof"
    for name in ("source", "240p"):
        playlist = media_playlist(output, name)
        assert 2.0 < sum(s.duration for s in playlist.segments) < 3.5
        last = playlist.segments[-1]
        assert inspect_segment(output / name / last.uri).decoded_frames > 0
    assert leftover_temporary_files(output) == []


class ConnectionThatFails(io.RawIOBase):
    """Stdin as PyAV sees it when the RTMP connection dies: reads fail with EIO."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self._data = data
        self._position = 0
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._position >= self._fail_after:
            raise OSError(errno.EIO, "Input/output error")
        size = min(len(buffer), self._fail_after - self._position)
        buffer[:size] = self._data[self._position : self._position + size]
        self._position += size
        return size


def test_read_error_ends_the_stream_cleanly(h264_broadcast, tmp_path):
    data = h264_broadcast.read_bytes()
    stdin = io.BufferedReader(ConnectionThatFails(data, fail_after=len(data) * 6 // 10))
    stdout = io.StringIO()
    exit_status = run_transcoder(
        TranscodeOptions(output=tmp_path, ladder_heights=(240,)), stdin, EventStream(stdout)
    )
    events = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert exit_status == 0
    assert events[-1]["event"] == "ended" and events[-1]["reason"] == "input_error"
    assert "Errno 5" in events[-1]["detail"]
    for name in ("source", "240p"):
        playlist = media_playlist(tmp_path, name)
        assert 2.0 < sum(s.duration for s in playlist.segments) < 3.5
    assert leftover_temporary_files(tmp_path) == []


def test_input_without_video_is_refused(tmp_path):
    broadcast = tmp_path / "not-flv.flv"
    broadcast.write_bytes(b"FLV\x01\x05\x00\x00\x00\x09" + bytes(64))
    run = transcode(broadcast, tmp_path / "hls")
    assert run.exit_status == 2
    assert run.ended["reason"] in ("no_video", "input_error")
