"""Gift statistics per stream and per broadcaster-day, recomputed from the gift sends.

Each recomputation reads every send of its stream or day and overwrites one
row, so running it twice, or again after a worker died half-way (Celery acks
late and redelivers), gives the same row: nothing is lost, nothing counted
twice. Incrementing counters would not survive a redelivery.
"""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from gifts.models import DailyGiftStats, GiftSend, StreamGiftStats


def _figures(sends) -> dict:
    totals = sends.aggregate(
        sends=Count("pk"),
        gifts=Sum("quantity"),
        coins=Sum("coins"),
        diamonds=Sum("diamonds"),
        unique_gifters=Count("sender", distinct=True),
    )
    top = sends.values("gift_id").annotate(spent=Sum("coins")).order_by("-spent", "gift_id").first()
    return {
        "sends": totals["sends"] or 0,
        "gifts": int(totals["gifts"] or 0),
        "coins": int(totals["coins"] or 0),
        "diamonds": int(totals["diamonds"] or 0),
        "unique_gifters": totals["unique_gifters"] or 0,
        "top_gift_id": top["gift_id"] if top else None,
        "top_gift_coins": int(top["spent"]) if top else 0,
        "computed_at": timezone.now(),
    }


def day_range(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


@transaction.atomic
def recompute_stream(stream_id: int, broadcaster_id: int) -> StreamGiftStats:
    figures = _figures(GiftSend.objects.filter(stream_id=stream_id))
    stats, _ = StreamGiftStats.objects.update_or_create(
        stream_id=stream_id, defaults={"broadcaster_id": broadcaster_id, **figures}
    )
    return stats


@transaction.atomic
def recompute_day(broadcaster_id: int, day: date) -> DailyGiftStats:
    start, end = day_range(day)
    sends = GiftSend.objects.filter(
        recipient_id=broadcaster_id, created_at__gte=start, created_at__lt=end
    )
    stats, _ = DailyGiftStats.objects.update_or_create(
        broadcaster_id=broadcaster_id, day=day, defaults=_figures(sends)
    )
    return stats


def work_since(since: datetime) -> tuple[list[tuple[int, int]], list[tuple[int, date]]]:
    """The (stream, broadcaster) and (broadcaster, day) pairs with sends since `since`."""
    sends = GiftSend.objects.filter(created_at__gte=since)
    streams = sorted(
        set(sends.exclude(stream=None).values_list("stream_id", "recipient_id").distinct())
    )
    days = sends.annotate(day=TruncDate("created_at")).values_list("recipient_id", "day")
    return streams, sorted(set(days.distinct()))
