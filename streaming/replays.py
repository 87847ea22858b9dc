"""Replays: an ended stream's full recording, kept on disk until it expires.

While a room is live its transcoder writes ``HLS_ROOT/<slug>/`` (the live playlists,
and with ``--keep-recording`` every segment plus ``<rendition>/vod.m3u8``). When the
stream ends, `make_replay` turns that recording into

    HLS_ROOT/<slug>/replays/<stream id>/master.m3u8
    HLS_ROOT/<slug>/replays/<stream id>/<rendition>/index.m3u8   (VOD, with ENDLIST)
    HLS_ROOT/<slug>/replays/<stream id>/<rendition>/seg_<n>.m4s, init_<n>.mp4
    HLS_ROOT/<slug>/replays/<stream id>/thumbnail.jpg

served by the same origin at ``/hls/<slug>/replays/<id>/master.m3u8``. Segments are
hard links, not copies: making a replay of a long stream costs no disk and no I/O, and
the next stream of the room may empty the live folder (the ingest keeps ``replays/``)
while the replay keeps its data. The folder is built under a temporary name and renamed
into place, so a player never sees half a replay.

`delete_replay` removes one; the periodic task in streaming/tasks.py removes expired
ones (which needs the worker to see HLS_ROOT: run it on the ingest machine, or put
HLS_ROOT on shared storage).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import replace
from pathlib import Path

from streaming.transcoder.master_playlist import MASTER_PLAYLIST
from streaming.transcoder.playlist import parse_media_playlist, render_media_playlist
from streaming.transcoder.rendition_playlist import (
    INIT_NAME,
    LIVE_PLAYLIST,
    PART_NAME,
    RECORDING_LOG,
    SEGMENT_NAME,
    VOD_PLAYLIST,
    read_recording_log,
    recording_playlist,
)
from streaming.transcoder.thumbnail import THUMBNAIL_NAME

logger = logging.getLogger("livesite.replays")

REPLAYS = "replays"


def replay_folder(live_folder: Path, stream_id: int) -> Path:
    return Path(live_folder) / REPLAYS / str(stream_id)


def make_replay(live_folder: Path, stream_id: int) -> float | None:
    """Build the replay of the stream recorded in `live_folder`; returns its length in
    seconds, or None when nothing was recorded (the stream never produced a segment)."""
    return link_recording(live_folder, replay_folder(live_folder, stream_id))


def link_recording(
    live_folder: Path, target: Path, last_seconds: float | None = None
) -> float | None:
    """Hard-link the recording in `live_folder` (all of it, or only its last
    `last_seconds`, as clips do) into `target`: every rendition's segments and VOD
    playlist, the master playlist and the thumbnail. Built under a temporary name and
    renamed into place; returns the seconds linked, or None when nothing was recorded."""
    live_folder, target = Path(live_folder), Path(target)
    master = live_folder / MASTER_PLAYLIST
    if not master.exists():
        return None
    building = target.with_name(f".{target.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    kept_uris, seconds = set(), 0.0
    for uri in _variant_uris(master.read_text()):
        rendition = (live_folder / uri).parent
        length = _link_rendition(rendition, building / rendition.name, last_seconds)
        if length:
            kept_uris.add(uri)
            seconds = max(seconds, length)
    if not kept_uris:
        shutil.rmtree(building, ignore_errors=True)
        return None
    (building / MASTER_PLAYLIST).write_text(_master_with(master.read_text(), kept_uris))
    thumbnail = live_folder / THUMBNAIL_NAME
    if thumbnail.exists():
        shutil.copyfile(thumbnail, building / THUMBNAIL_NAME)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    return seconds


def delete_replay(live_folder: Path, stream_id: int) -> None:
    shutil.rmtree(replay_folder(live_folder, stream_id), ignore_errors=True)


def prune_live_folder(live_folder: Path) -> None:
    """After the replay is made: leave the live folder only what its ended live playlists
    list. The recording now lives (as hard links) in the replay alone, so it is freed
    when the replay expires, and nothing of it stays reachable under the live URLs."""
    for rendition in Path(live_folder).iterdir():
        playlist = rendition / LIVE_PLAYLIST
        if rendition.name == REPLAYS or not playlist.exists():
            continue
        segments = parse_media_playlist(playlist.read_text()).segments
        listed = {segment.uri for segment in segments} | {segment.init for segment in segments}
        (rendition / VOD_PLAYLIST).unlink(missing_ok=True)
        (rendition / RECORDING_LOG).unlink(missing_ok=True)
        for path in rendition.iterdir():
            media = SEGMENT_NAME.match(path.name) or INIT_NAME.match(path.name)
            if (media and path.name not in listed) or PART_NAME.match(path.name):
                path.unlink(missing_ok=True)


def _recorded_playlist(source: Path):
    """The rendition's recording: its log (complete even if the transcoder was killed),
    else its VOD playlist, else the ended live window (what is certainly on disk)."""
    recorded = read_recording_log(source)
    if recorded:
        return recording_playlist(recorded)
    for name in (VOD_PLAYLIST, LIVE_PLAYLIST):
        if (source / name).exists():
            return parse_media_playlist((source / name).read_text())
    return None


def _last_segments(segments, seconds: float) -> list:
    """The fewest last segments that hold `seconds`; the first starts no discontinuity."""
    chosen, total = [], 0.0
    for segment in reversed(segments):
        if total >= seconds:
            break
        chosen.append(segment)
        total += segment.duration
    chosen.reverse()
    if chosen:
        chosen[0] = replace(chosen[0], discontinuity=False)
    return chosen


def _link_rendition(source: Path, destination: Path, last_seconds: float | None = None) -> float:
    """Link the rendition's recorded segments (or the last `last_seconds` of them) and
    write its VOD playlist; returns the seconds linked (0 when it recorded nothing)."""
    playlist = _recorded_playlist(source)
    if playlist is None:
        return 0.0
    segments = playlist.segments
    if last_seconds is not None:
        segments = _last_segments(segments, last_seconds)
    destination.mkdir(parents=True, exist_ok=True)
    kept, gap = [], False
    for segment in segments:
        try:
            if segment.init and not (destination / segment.init).exists():
                os.link(source / segment.init, destination / segment.init)
            os.link(source / segment.uri, destination / segment.uri)
        except FileExistsError:
            pass
        except OSError:
            gap = True  # a segment lost on disk: the timeline jumps over it
            continue
        kept.append(replace(segment, discontinuity=segment.discontinuity or (gap and bool(kept))))
        gap = False
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


def _variant_uris(master_text: str) -> list[str]:
    lines = [line.strip() for line in master_text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _master_with(master_text: str, kept_uris: set[str]) -> str:
    """The master playlist without the variants whose rendition recorded nothing."""
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
