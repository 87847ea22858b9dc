"""After a batch of gift sends commits: the leaderboards, the room's `gift` frames, the
statistics. The money has moved already, so nothing here may fail a send: each part
logs its failure and the next runs (boards and statistics are rebuilt from the ledger).
"""

import logging

from django.utils import timezone

from gifts import conf, events, gates, leaderboards
from gifts.catalog import catalog_entry
from gifts.group_commit import Order
from gifts.models import GiftSend
from livesite.celery import app as celery_app
from realtime.publish import publish_many, publish_on_commit
from rooms.models import Room

log = logging.getLogger(__name__)

STATS_SLACK = 2  # seconds


def after_sends(orders: list[Order]) -> None:
    """After commit: boards, the room's frames, statistics, for a batch's sends in a few Redis
    round trips. The money has moved already, so a failure here is logged, never raised
    (boards and statistics are rebuilt from the ledger), and one part failing does not
    stop the others."""
    sends = [order.outcome for order in orders]
    totals = [{} for _ in sends]
    try:
        totals = leaderboards.record_many(sends)
    except Exception:
        log.exception("gifts: could not score transfers %s", [s.transfer_id for s in sends])
    frames = []
    for order, send, total in zip(orders, sends, totals, strict=True):
        try:
            gift, sender, room = order.payload.gift, order.payload.sender, order.payload.room
            frames.append(
                (send.room_id, events.gift(send, catalog_entry(gift), sender, room.slug, total))
            )
        except Exception:
            log.exception("gifts: could not describe transfer %s", send.transfer_id)
    try:
        publish_many(frames)
    except Exception:
        log.exception("gifts: could not publish transfers %s", [s.transfer_id for s in sends])
    for order, send in zip(orders, sends, strict=True):
        try:
            _publish_leaderboards(order.payload.room, send)
        except Exception:
            log.exception("gifts: could not publish the boards after %s", send.transfer_id)
        try:
            _schedule_statistics(send)
        except Exception:
            log.exception("gifts: could not schedule statistics for %s", send.transfer_id)


def _publish_leaderboards(room: Room, send: GiftSend) -> None:
    # At most one snapshot per room and interval; the gift frames carry totals in between.
    interval = conf.leaderboard_publish_interval()
    if not gates.pass_once(f"leaderboard:{room.pk}", interval, recheck=interval / 4):
        return
    size = conf.leaderboard_room_size()
    boards = [leaderboards.broadcaster_board(room.owner_id)]
    if send.stream_id:
        boards.insert(0, leaderboards.stream_board(send.stream_id))
    for page in leaderboards.pages(boards, 0, size):
        publish_on_commit(room.pk, events.leaderboard(room.slug, page))


def _schedule_statistics(send: GiftSend) -> None:
    from gifts import tasks  # tasks import services' neighbours; keep the import graph acyclic

    eager = celery_app.conf.task_always_eager
    delay = conf.stats_delay_seconds()
    # With a worker: one queued recomputation per stream (and day) per `delay` seconds, run
    # STATS_SLACK after the window closes so it covers every send of the window (a process
    # that lost the gate stops asking for less than the slack). Eager: at once, every send.
    countdown = 0 if eager else delay + STATS_SLACK
    day = timezone.localdate(send.created_at).isoformat()

    def due(name: str) -> bool:
        return eager or gates.pass_once(f"stats:{name}", delay, recheck=STATS_SLACK / 2)

    if send.stream_id and due(f"stream:{send.stream_id}"):
        tasks.refresh_stream_stats.apply_async(
            (send.stream_id, send.recipient_id), countdown=countdown
        )
    if due(f"day:{send.recipient_id}:{day}"):
        tasks.refresh_daily_stats.apply_async((send.recipient_id, day), countdown=countdown)
