"""A clip on disk: the last N seconds of a live stream's recording, as hard links.

    HLS_ROOT/<slug>/replays/clips/<public id>/master.m3u8
    HLS_ROOT/<slug>/replays/clips/<public id>/<rendition>/index.m3u8   (VOD, ENDLIST)
    HLS_ROOT/<slug>/replays/clips/<public id>/<rendition>/seg_<n>.m4s, init_<n>.mp4
    HLS_ROOT/<slug>/replays/clips/<public id>/thumbnail.jpg

served by the origin at /hls/<slug>/replays/clips/<id>/master.m3u8. Like replays
(streaming/replays.py), segments are hard links, never re-encoded: a clip starts on a
segment boundary (keyframe-aligned, TRANSCODER_SEGMENT_SECONDS apart), so it is the
asked length rounded up to whole segments. It lives under `replays/` because the ingest
keeps that folder when it empties a room's live folder for its next stream, and the
replay clean-up only touches numbered folders in it. The folder is built under a
temporary name and renamed into place.
"""

import contextlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

from streaming.replays import REPLAYS
from streaming.transcoder.master_playlist import MASTER_PLAYLIST
from streaming.transcoder.playlist import parse_media_playlist, render_media_playlist
from streaming.transcoder.rendition_playlist import (
    LIVE_PLAYLIST,
    VOD_PLAYLIST,
    read_recording_log,
    recording_playlist,
)
from streaming.transcoder.thumbnail import THUMBNAIL_NAME

CLIPS = "clips"


def clip_folder(live_folder: Path, public_id: str) -> Path:
    return Path(live_folder) / REPLAYS / CLIPS / public_id


def make_clip(live_folder: Path, public_id: str, seconds: float) -> tuple[float, bool] | None:
    """Link the last `seconds` of every rendition; returns (seconds linked, has a
    thumbnail), or None when nothing is recorded yet."""
    live_folder = Path(live_folder)
    master = live_folder / MASTER_PLAYLIST
    if not master.exists():
        return None
    target = clip_folder(live_folder, public_id)
    building = target.with_name(f".{public_id}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    kept_uris, length = set(), 0.0
    for uri in _variant_uris(master.read_text()):
        rendition = (live_folder / uri).parent
        linked = _link_last(rendition, building / rendition.name, seconds)
        if linked:
            kept_uris.add(uri)
            length = max(length, linked)
    if not kept_uris:
        shutil.rmtree(building, ignore_errors=True)
        return None
    (building / MASTER_PLAYLIST).write_text(_master_with(master.read_text(), kept_uris))
    thumbnail = live_folder / THUMBNAIL_NAME
    if thumbnail.exists():
        shutil.copyfile(thumbnail, building / THUMBNAIL_NAME)
    os.replace(building, target)
    return length, thumbnail.exists()


def delete_clip(live_folder: Path, public_id: str) -> None:
    shutil.rmtree(clip_folder(live_folder, public_id), ignore_errors=True)


def disk_bytes(live_folder: Path) -> int:
    """Bytes the room's clips hold (hard links counted in full: a clip outlives its
    replay)."""
    root = Path(live_folder) / REPLAYS / CLIPS
    if not root.exists():
        return 0
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def _recorded(source: Path):
    recorded = read_recording_log(source)
    if recorded:
        return recording_playlist(recorded)
    for name in (VOD_PLAYLIST, LIVE_PLAYLIST):
        if (source / name).exists():
            return parse_media_playlist((source / name).read_text())
    return None


def _link_last(source: Path, destination: Path, seconds: float) -> float:
    playlist = _recorded(source)
    if playlist is None or not playlist.segments:
        return 0.0
    chosen, total = [], 0.0
    for segment in reversed(playlist.segments):
        if total >= seconds:
            break
        chosen.append(segment)
        total += segment.duration
    chosen.reverse()
    destination.mkdir(parents=True, exist_ok=True)
    kept = []
    for segment in chosen:
        try:
            _link(source, destination, segment.uri)
            if segment.init:  # CMAF: the segment plays only with its init segment
                _link(source, destination, segment.init)
        except OSError:
            continue  # pruned meanwhile: the clip is that much shorter
        kept.append(replace(segment, discontinuity=segment.discontinuity and bool(kept)))
    if not kept:
        return 0.0
    vod = replace(
        playlist,
        segments=tuple(kept),
        media_sequence=kept[0].sequence,
        playlist_type="VOD",
        ended=True,
    )
    (destination / LIVE_PLAYLIST).write_text(render_media_playlist(vod))
    return sum(segment.duration for segment in kept)


def _link(source: Path, destination: Path, name: str) -> None:
    with contextlib.suppress(FileExistsError):  # linked by an earlier segment
        os.link(source / name, destination / name)


def _variant_uris(master_text: str) -> list[str]:
    lines = [line.strip() for line in master_text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _master_with(master_text: str, kept_uris: set[str]) -> str:
    lines, pending = [], None
    for line in (raw.strip() for raw in master_text.splitlines()):
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = line
        elif line and not line.startswith("#"):
            if line in kept_uris:
                lines += [pending, line] if pending else [line]
            pending = None
        elif line:
            lines.append(line)
    return "\n".join(lines) + "\n"
