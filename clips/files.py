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
replay clean-up only touches numbered folders in it. The linking is the replays' own
(`streaming.replays.link_recording` with `last_seconds`).
"""

import shutil
from pathlib import Path

from streaming.replays import REPLAYS, link_recording
from streaming.transcoder.thumbnail import THUMBNAIL_NAME

CLIPS = "clips"


def clip_folder(live_folder: Path, public_id: str) -> Path:
    return Path(live_folder) / REPLAYS / CLIPS / public_id


def make_clip(live_folder: Path, public_id: str, seconds: float) -> tuple[float, bool] | None:
    """Link the last `seconds` of every rendition; returns (seconds linked, has a
    thumbnail), or None when nothing is recorded yet."""
    target = clip_folder(live_folder, public_id)
    length = link_recording(live_folder, target, last_seconds=seconds)
    if length is None:
        return None
    return length, (target / THUMBNAIL_NAME).exists()


def delete_clip(live_folder: Path, public_id: str) -> None:
    shutil.rmtree(clip_folder(live_folder, public_id), ignore_errors=True)


def disk_bytes(live_folder: Path) -> int:
    """Bytes the room's clips hold (hard links counted in full: a clip outlives its
    replay)."""
    root = Path(live_folder) / REPLAYS / CLIPS
    if not root.exists():
        return 0
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
