"""Periodic work on the video files (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import logging
import time
from pathlib import Path

from celery import shared_task

from rooms import services as rooms
from streaming import conf
from streaming.ingest.live_lock import held_live_locks, live_locks_kept_for
from streaming.replays import REPLAYS, delete_replay

logger = logging.getLogger("livesite.replays")
ingest_log = logging.getLogger("livesite.ingest")


@shared_task(name="streaming.delete_expired_replays")
def delete_expired_replays() -> int:
    """Delete the media of every replay past its retention, and of replays nothing refers
    to any more (a room or stream deleted in the admin); returns how many."""
    hls_root = conf.hls_root()
    deleted = 0
    for stream in rooms.expired_replays():
        room_folder = hls_root / stream.room.slug
        if not room_folder.exists():
            # This worker does not see the ingest's files: deleting nothing here and
            # calling it done would keep the media forever. Leave it for a worker that
            # does (docs/video.md: run this where HLS_ROOT is).
            logger.warning("replay %s: %s is not on this machine", stream.pk, room_folder)
            continue
        delete_replay(room_folder, stream.pk)
        rooms.forget_replay(stream)
        deleted += 1
    deleted += _delete_orphans(hls_root)
    if deleted:
        logger.info("deleted %d replays", deleted)
    return deleted


ORPHAN_AGE = 3600  # seconds: younger, it may be a replay whose stream is being recorded


def _delete_orphans(hls_root: Path) -> int:
    on_disk = {}
    settled = time.time() - ORPHAN_AGE
    for folder in hls_root.glob(f"*/{REPLAYS}/*"):
        if folder.is_dir() and folder.name.isdigit() and folder.stat().st_mtime < settled:
            on_disk[(folder.parent.parent.name, int(folder.name))] = folder
    if not on_disk:
        return 0
    kept = rooms.kept_replays([stream_id for _, stream_id in on_disk])
    orphans = [key for key in on_disk if kept.get(key[1]) != key[0]]
    for slug, stream_id in orphans:
        delete_replay(hls_root / slug, stream_id)
        logger.info("replay %s of %s: no stream refers to it; deleted", stream_id, slug)
    return len(orphans)


# Named for rooms, where it lived first: a beat schedule or a queued run keeps working.
@shared_task(name="rooms.end_abandoned_streams")
def end_abandoned_streams() -> int:
    """End streams left live by an ingest that vanished (no ingest holds its live lock);
    returns how many. Here, not in rooms: only streaming knows the ingest's locks."""
    ended = rooms.end_abandoned_streams(held_live_locks, live_locks_kept_for)
    for stream in ended:
        ingest_log.warning(
            "room %s: its ingest vanished; stream %s ended", stream.room.slug, stream.pk
        )
    return len(ended)
