"""Received WebRTC frames reach the transcoder as Matroska it can read and copy."""

import json
import re
import subprocess
import sys
import time
from fractions import Fraction

import av
import pytest

from streaming.webrtc.encoded_frames import EncodedFrame
from streaming.webrtc.matroska import LiveMatroskaMuxer, is_keyframe
from tests.support.servers import ROOT

FPS = 30
PART_DURATION = re.compile(r"#EXT-X-PART:DURATION=([0-9.]+)")


def encoded_video(codec: str, frames: int = 90, still: bool = False) -> list[EncodedFrame]:
    """What aiortc's receiver hands over: Annex B H.264 access units or VP8 frames;
    `still`: a grey picture that never changes, a keyframe every 2 s."""
    encoder = av.CodecContext.create({"h264": "libx264", "vp8": "libvpx"}[codec], "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = Fraction(1, 90000)
    encoder.framerate = FPS
    encoder.gop_size = FPS * (2 if still else 1)
    if codec == "h264":
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
    out = []
    for index in range(frames):
        frame = av.VideoFrame(320, 240, "yuv420p")
        if still:
            for plane in frame.planes:
                plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = index * 3000
        for packet in encoder.encode(frame):
            out.append(EncodedFrame(codec, bytes(packet), packet.pts, 90000))
    return out


def encoded_audio(seconds: float) -> list[EncodedFrame]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "s16"
    out = []
    for index in range(int(seconds * 50)):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = 48000, index * 960
        for packet in encoder.encode(frame):
            out.append(EncodedFrame("opus", bytes(packet), packet.pts, 48000))
    return out


def mux(video, audio) -> bytes:
    clock = iter(range(10**6))
    muxer = LiveMatroskaMuxer(with_audio=bool(audio), clock=lambda: next(clock) / 1000)
    data = b""
    audio = list(audio)
    for frame in video:
        muxer.add(frame)
        while audio and audio[0].timestamp * 90000 // 48000 <= frame.timestamp:
            muxer.add(audio.pop(0))
        data += muxer.take()
    return data + muxer.close()


def test_a_stream_starts_at_the_first_video_keyframe():
    video = encoded_video("vp8", 40)
    assert is_keyframe(video[0]) and not is_keyframe(video[1])
    muxer = LiveMatroskaMuxer(with_audio=False)
    muxer.add(video[1])  # a delta frame before any keyframe cannot start a stream
    assert muxer.frames == 0
    muxer.add(video[0])
    assert muxer.frames == 1


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_the_transcoder_reads_a_webrtc_stream(tmp_path, codec):
    data = mux(encoded_video(codec), encoded_audio(3))
    command = [
        sys.executable, "-m", "streaming.transcoder", "--output", str(tmp_path),
        "--input-format", "matroska", "--ladder", "none", "--segment-seconds", "1",
    ]  # fmt: skip
    result = subprocess.run(command, input=data, capture_output=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    events = {event["event"]: event for event in map(json.loads, result.stdout.splitlines())}
    assert events["ended"]["segments"] >= 1
    assert events["started"]["audio_codec"] == "opus"
    # A browser's H.264 is copied into the source rendition; VP8 must be encoded.
    assert events["started"]["renditions"][0]["copy"] is (codec == "h264")
    assert (tmp_path / "master.m3u8").exists()


def test_garbage_frames_never_start_a_stream_nor_break_one():
    import os

    muxer = LiveMatroskaMuxer(with_audio=True)
    for _ in range(50):
        muxer.add(EncodedFrame("h264", os.urandom(200), 0, 90000))
        muxer.add(EncodedFrame("opus", os.urandom(50), 0, 48000))
    assert muxer.frames == 0 and muxer.take() == b""
    video = encoded_video("h264", 10)
    muxer.add(video[0])
    for index in range(1, 30):
        muxer.add(EncodedFrame("h264", os.urandom(300), index * 3000, 90000))
        muxer.add(EncodedFrame("opus", os.urandom(40), index * 1600, 48000))
    assert muxer.frames > 1 and muxer.take()


def test_a_quiet_webrtc_stream_is_published_as_it_arrives(tmp_path):
    """A still picture (a slide, a paused camera) is a few hundred bytes a second; the
    transcoder must publish what has arrived instead of waiting for a full read buffer,
    which at that rate held every WHIP room's HLS about 16 s behind the publisher."""
    data = mux(encoded_video("h264", 4 * FPS, still=True), [])
    assert len(data) < 16_000  # far less than one 32 KB read buffer
    command = [
        sys.executable, "-m", "streaming.transcoder", "--output", str(tmp_path),
        "--input-format", "matroska", "--ladder", "none", "--segment-seconds", "1",
    ]  # fmt: skip
    transcoder = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        cwd=ROOT,
    )  # fmt: skip
    try:
        transcoder.stdin.write(data)
        transcoder.stdin.flush()  # and the publisher is still live: no end of input
        playlist = tmp_path / "source" / "index.m3u8"
        deadline = time.monotonic() + 30
        published = 0.0
        while published < 3.0 and time.monotonic() < deadline:
            time.sleep(0.1)
            if playlist.exists():
                published = sum(map(float, PART_DURATION.findall(playlist.read_text())))
        assert published >= 3.0, "the frames written are not published until more arrive"
    finally:
        transcoder.kill()
        transcoder.wait()
