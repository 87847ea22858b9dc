"""Celery tasks of the gifts app: statistics and leaderboard rebuilds.

Every task recomputes from the gift sends and overwrites, so a redelivery
after a worker died (acks late, reject on worker lost) repeats work but never
double-counts. The statistics sweep also runs periodically (celery beat) as a
safety net for refreshes that were never queued. Leaderboards are reconciled
periodically: each board touched lately is compared with the database and rebuilt
if they differ, and the drift found is reported on /metrics. A full rebuild
(`manage.py gifts_rebuild_leaderboards`) is the repair after Redis lost data.
"""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from gifts import conf, leaderboards, stats
from livesite.celery import app

log = logging.getLogger(__name__)


@shared_task(name="gifts.refresh_stream_stats")
def refresh_stream_stats(stream_id: int, broadcaster_id: int) -> int:
    return stats.recompute_stream(stream_id, broadcaster_id).coins


@shared_task(name="gifts.refresh_daily_stats")
def refresh_daily_stats(broadcaster_id: int, day: str) -> int:
    return stats.recompute_day(broadcaster_id, date.fromisoformat(day)).coins


@shared_task(name="gifts.refresh_recent_stats")
def refresh_recent_stats(minutes: int | None = None) -> dict:
    """Recompute every stream and broadcaster-day with gifts in the last `minutes`.

    Each row is committed on its own; a worker killed half-way leaves some
    rows fresh and some stale, and the redelivered task recomputes them all.
    """
    since = timezone.now() - timedelta(minutes=minutes or conf.stats_sweep_minutes())
    streams, days = stats.work_since(since)
    for stream_id, broadcaster_id in streams:
        log.info("gifts: recomputing statistics of stream %s", stream_id)
        stats.recompute_stream(stream_id, broadcaster_id)
    for broadcaster_id, day in days:
        stats.recompute_day(broadcaster_id, day)
    return {"streams": len(streams), "days": len(days)}


@shared_task(name="gifts.rebuild_leaderboards")
def rebuild_leaderboards(days: int | None = None) -> int:
    """Rebuild the Redis boards touched in the last `days` days (every board when None)."""
    since = None if days is None else timezone.now() - timedelta(days=days)
    boards = leaderboards.boards_to_rebuild(since)
    for board in boards:
        leaderboards.rebuild(board)
    return len(boards)


@shared_task(name="gifts.reconcile_leaderboards")
def reconcile_leaderboards(days: int | None = None) -> int:
    """Compare the Redis boards touched in the last `days` days with the database and
    rebuild those that drifted (a ZINCRBY lost while Redis was away, or repeated);
    returns the drift found, in coins, also kept for /metrics."""
    days = conf.leaderboard_reconcile_days() if days is None else days
    found = 0
    for board in leaderboards.boards_to_rebuild(timezone.now() - timedelta(days=days)):
        drifted = leaderboards.drift(board)
        if drifted:
            log.warning("gifts: leaderboard %s drifted by %s coins; rebuilding", board, drifted)
            leaderboards.rebuild(board)
            found += drifted
    leaderboards.record_drift(found)
    return found


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender, **kwargs):
    sweep = conf.stats_sweep_minutes()
    # Every quarter of the sweep window, so every send is covered by a few sweeps.
    sender.add_periodic_task(
        timedelta(minutes=max(1, sweep // 4)), refresh_recent_stats.s(), name="gifts stats sweep"
    )
