"""Test broadcasts: short FLV files like the ones our RTMP server hands the transcoder.

The ffmpeg CLI makes them (a test pattern and a tone); HEVC goes through PyAV's FLV
muxer because the CLI's (ffmpeg 5.1) cannot write enhanced-FLV HEVC, which is what
OBS sends over enhanced RTMP.
"""

import subprocess
from pathlib import Path

import av


def make_broadcast(
    path: Path,
    *,
    size: str = "640x360",
    seconds: float = 4,
    frame_rate: int = 30,
    keyframe_seconds: float = 2,
    video_codec: str = "libx264",
    audio_codec: str | None = "aac",
) -> Path:
    keyframe_interval = str(round(frame_rate * keyframe_seconds))
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={frame_rate}",
    ]
    if audio_codec:
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    command += ["-t", str(seconds), "-pix_fmt", "yuv420p"]
    if video_codec == "libx264":
        command += ["-c:v", "libx264", "-preset", "veryfast", "-g", keyframe_interval]
    else:
        command += [
            "-c:v", video_codec, "-preset", "ultrafast",
            "-x265-params", f"log-level=error:keyint={keyframe_interval}",
        ]
    if audio_codec == "aac":
        command += ["-c:a", "aac", "-b:a", "96k"]
    elif audio_codec == "mp3":
        command += ["-c:a", "libmp3lame", "-ar", "44100", "-b:a", "128k"]
    if video_codec == "libx264":
        subprocess.run([*command, "-f", "flv", str(path)], check=True)
        return path
    intermediate = path.with_suffix(".mp4")
    subprocess.run([*command, "-f", "mp4", str(intermediate)], check=True)
    _remux_to_flv(intermediate, path)
    return path


def _remux_to_flv(source: Path, destination: Path) -> None:
    with av.open(str(source)) as reader, av.open(str(destination), "w", format="flv") as writer:
        streams = {s.index: writer.add_stream_from_template(s) for s in reader.streams}
        for packet in reader.demux():
            if packet.size:
                packet.stream = streams[packet.stream_index]
                writer.mux(packet)


def damaged_copy(source: Path, destination: Path, *, flipped_bytes: int) -> Path:
    """The broadcast with ``flipped_bytes`` bytes inverted in the middle, as a bad
    network or a buggy encoder would leave it."""
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    for index in range(middle, middle + flipped_bytes):
        data[index] ^= 0xFF
    destination.write_bytes(bytes(data))
    return destination


def truncated_copy(source: Path, destination: Path, *, keep: float) -> Path:
    """The first ``keep`` fraction of the bytes, cut mid-tag like a dropped connection."""
    data = source.read_bytes()
    destination.write_bytes(data[: int(len(data) * keep)])
    return destination
