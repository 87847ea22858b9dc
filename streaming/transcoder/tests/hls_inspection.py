"""Reading the transcoder's output back the way a player would."""

import io
import re
from dataclasses import dataclass
from pathlib import Path

import av

from streaming.transcoder.playlist import (
    MediaPlaylist,
    parse_master_playlist,
    parse_media_playlist,
)


def media_playlist(output: Path, rendition: str, name: str = "index.m3u8") -> MediaPlaylist:
    return parse_media_playlist((output / rendition / name).read_text())


def master_variants(output: Path) -> dict[str, dict[str, str]]:
    """Attributes of every variant in master.m3u8, by rendition directory."""
    variants = parse_master_playlist((output / "master.m3u8").read_text())
    return {uri.split("/")[0]: attributes for attributes, uri in variants}


@dataclass
class SegmentContents:
    codec: str
    width: int
    height: int
    first_packet_is_keyframe: bool
    first_frame_is_keyframe: bool
    keyframes: int
    video_start: float
    video_duration: float
    decoded_frames: int
    audio_codec: str | None
    audio_packets: int
    audio_start: float | None
    audio_end: float | None


def inspect_segment(path: Path) -> SegmentContents:
    """Demux and decode one segment (or part) on its own, with the init segment it
    needs, as a player joining there does."""
    with av.open(io.BytesIO(init_segment_for(path) + path.read_bytes())) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        packets, audio_times = [], []
        for packet in container.demux():
            if not packet.size:
                continue
            if packet.stream_index == video.index:
                packets.append(packet)
            else:
                start = float(packet.pts * packet.time_base)
                audio_times.append((start, start + float(packet.duration * packet.time_base)))
        frames = []
        for packet in [*packets, None]:
            frames += video.codec_context.decode(packet)
        times = sorted(float(p.pts * p.time_base) for p in packets)
        return SegmentContents(
            codec=video.codec_context.name,
            width=frames[0].width,
            height=frames[0].height,
            first_packet_is_keyframe=packets[0].is_keyframe,
            first_frame_is_keyframe=frames[0].key_frame,
            keyframes=sum(1 for p in packets if p.is_keyframe),
            video_start=times[0],
            video_duration=times[-1] - times[0] + 1 / 30,
            decoded_frames=len(frames),
            audio_codec=audio.codec_context.name if audio else None,
            audio_packets=len(audio_times),
            audio_start=min(audio_times)[0] if audio_times else None,
            audio_end=max(audio_times)[1] if audio_times else None,
        )


def init_segment_for(path: Path) -> bytes:
    """The init segment of the run that wrote `path` (seg_N.m4s or part_N_K.m4s): the
    newest init_M.mp4 with M <= N."""
    sequence = int(re.match(r"(?:seg|part)_(\d+)", path.name)[1])
    runs = [int(p.stem.split("_")[1]) for p in path.parent.glob("init_*.mp4")]
    return (path.parent / f"init_{max(r for r in runs if r <= sequence)}.mp4").read_bytes()


def rendition_segments(output: Path, rendition: str) -> list[Path]:
    playlist = media_playlist(output, rendition)
    return [output / rendition / segment.uri for segment in playlist.segments]


def slice_nal_units_in_flv(path: Path) -> list[bytes]:
    """Coded slices (NAL types 1 and 5) of every video packet, in order. FLV carries
    them length-prefixed (AVCC)."""
    units = []
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            data = bytes(packet)
            while len(data) > 4:
                length = int.from_bytes(data[:4], "big")
                units.append(data[4 : 4 + length])
                data = data[4 + length :]
    return [unit for unit in units if unit[0] & 0x1F in (1, 5)]


def slice_nal_units_in_segments(paths: list[Path]) -> list[bytes]:
    """The same from CMAF segments, which carry them length-prefixed too."""
    units = []
    for path in paths:
        with av.open(io.BytesIO(init_segment_for(path) + path.read_bytes())) as container:
            for packet in container.demux(container.streams.video[0]):
                data = bytes(packet)
                while len(data) > 4:
                    length = int.from_bytes(data[:4], "big")
                    units.append(data[4 : 4 + length])
                    data = data[4 + length :]
    return [unit for unit in units if unit and unit[0] & 0x1F in (1, 5)]


def leftover_temporary_files(output: Path) -> list[Path]:
    return [path for path in output.rglob("*") if path.name.endswith(".tmp")]
