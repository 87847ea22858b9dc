"""Periodic work on the video files (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from rooms import services as rooms
from streaming.replays import delete_replay

logger = logging.getLogger("livesite.replays")


@shared_task(name="streaming.delete_expired_replays")
def delete_expired_replays() -> int:
    """Delete the media of every replay past its retention; returns how many."""
    deleted = 0
    for stream in rooms.expired_replays():
        delete_replay(Path(settings.HLS_ROOT) / stream.room.slug, stream.pk)
        rooms.forget_replay(stream)
        deleted += 1
    if deleted:
        logger.info("deleted %d expired replays", deleted)
    return deleted
