from datetime import timedelta

import pytest
from django.utils import timezone

from gifts import stats, tasks
from gifts.models import DailyGiftStats, GiftSend, StreamGiftStats
from gifts.services import coins, sending
from gifts.tests.conftest import new_key
from livesite.celery import app


def send(sender, room, gift, quantity=1):
    return sending.send_gift(sender, room, gift, quantity, new_key())


@pytest.fixture
def gifted_stream(rich_bob, carol, live_room, catalog):
    coins.grant_coins(carol, 10_000, "test")
    send(rich_bob, live_room, "rose", 10)  # 50
    send(rich_bob, live_room, "rose", 10)  # 50
    send(carol, live_room, "crown")  # 499
    send(carol, live_room, "heart", 99)  # 198
    return live_room


def test_stream_statistics_count_gifts_coins_gifters_and_the_top_gift(gifted_stream, catalog):
    figures = stats.recompute_stream(gifted_stream.current_stream_id, gifted_stream.owner_id)
    assert (figures.sends, figures.gifts, figures.coins) == (4, 10 + 10 + 1 + 99, 797)
    assert figures.diamonds == 25 + 25 + 249 + 99
    assert figures.unique_gifters == 2
    assert figures.top_gift == catalog["crown"]
    assert figures.top_gift_coins == 499


def test_daily_statistics_split_at_midnight(gifted_stream, alice):
    yesterday = timezone.now() - timedelta(days=1)
    GiftSend.objects.filter(gift__slug="crown").update(created_at=yesterday)
    today = stats.recompute_day(alice.pk, timezone.localdate())
    before = stats.recompute_day(alice.pk, timezone.localdate(yesterday))
    assert (today.sends, today.coins, today.unique_gifters) == (3, 298, 2)
    assert (before.sends, before.coins, before.top_gift.slug) == (1, 499, "crown")


def test_recomputing_again_changes_nothing(gifted_stream, alice):
    stream_id = gifted_stream.current_stream_id
    first = stats.recompute_stream(stream_id, alice.pk)
    again = stats.recompute_stream(stream_id, alice.pk)
    assert StreamGiftStats.objects.count() == 1
    assert (again.sends, again.coins, again.unique_gifters) == (
        first.sends,
        first.coins,
        first.unique_gifters,
    )


def test_the_sweep_recomputes_every_recent_stream_and_day(gifted_stream, alice):
    StreamGiftStats.objects.all().delete()
    DailyGiftStats.objects.all().delete()
    assert tasks.refresh_recent_stats.apply().get() == {"streams": 1, "days": 1}
    assert StreamGiftStats.objects.get().coins == 797
    assert DailyGiftStats.objects.get(broadcaster=alice).coins == 797


def test_without_a_worker_each_send_refreshes_statistics_at_once(
    rich_bob, live_room, catalog, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "rose")
    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "rose")
    assert StreamGiftStats.objects.get().coins == 10
    assert DailyGiftStats.objects.get().coins == 10


def test_with_a_worker_a_busy_stream_queues_one_refresh_per_window(
    rich_bob, live_room, catalog, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    queued = []
    for task in (tasks.refresh_stream_stats, tasks.refresh_daily_stats):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args, countdown, name=task.name: queued.append((name, countdown)),
        )
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            send(rich_bob, live_room, "rose")
    assert queued == [("gifts.refresh_stream_stats", 32), ("gifts.refresh_daily_stats", 32)]
