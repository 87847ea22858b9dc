"""Periodic work on rooms (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from rooms import services
from streaming.ingest.live_lock import held_live_locks, live_locks_kept_for

logger = logging.getLogger("livesite.ingest")


@shared_task(name="rooms.end_abandoned_streams")
def end_abandoned_streams() -> int:
    """End streams left live by an ingest that vanished; returns how many."""
    ended = services.end_abandoned_streams(held_live_locks, live_locks_kept_for)
    for stream in ended:
        logger.warning("room %s: its ingest vanished; stream %s ended", stream.room.slug, stream.pk)
    return len(ended)
