import random

import pytest
from django.utils import timezone

from accounts import services as accounts
from gifts import leaderboards, tasks
from gifts.services import coins, sending
from gifts.tests.conftest import new_key
from rooms import services as rooms


@pytest.fixture(params=["database", "redis"])
def boards(request, settings):
    """Each test runs on both: Redis sorted sets, and the embedded install's database queries."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    else:
        settings.GIFTS_LEADERBOARD_REDIS_URL = ""
    return request.param


def viewers(count: int, amount: int = 100_000):
    people = []
    for n in range(count):
        user = accounts.sign_up(f"viewer{n}", f"viewer{n}@example.com", "correct horse 123")
        coins.grant_coins(user, amount, "test")
        people.append(user)
    return people


def live_room_of(name: str):
    user = accounts.enable_broadcasting(
        accounts.sign_up(name, f"{name}@example.com", "correct horse 123")
    )
    room = rooms.create_room(user, f"{name}'s room")
    rooms.start_stream(room)
    room.refresh_from_db()
    return room


def send(sender, room, gift, quantity=1):
    return sending.send_gift(sender, room, gift, quantity, new_key())


def names(page):
    return [(entry["user"]["username"], entry["score"]) for entry in page["entries"]]


def test_top_gifters_of_a_stream_rank_by_coins(
    boards, bob, carol, live_room, catalog, django_capture_on_commit_callbacks
):
    coins.grant_coins(bob, 10_000, "test")
    coins.grant_coins(carol, 10_000, "test")
    with django_capture_on_commit_callbacks(execute=True):
        send(bob, live_room, "rose", 10)  # 50
        send(carol, live_room, "crown")  # 499
        send(bob, live_room, "donut")  # 30

    page = leaderboards.page(leaderboards.stream_board(live_room.current_stream_id))
    assert names(page) == [("carol", 499), ("bob", 80)]
    assert page["total"] == 2
    assert page["entries"][0]["rank"] == 1


def test_a_broadcasters_board_spans_every_stream(
    boards, rich_bob, live_room, catalog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "rose")
    rooms.end_stream(live_room)
    rooms.start_stream(live_room)
    live_room.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "rose")

    stream = leaderboards.page(leaderboards.stream_board(live_room.current_stream_id))
    all_time = leaderboards.page(leaderboards.broadcaster_board(live_room.owner_id))
    assert names(stream) == [("bob", 5)]
    assert names(all_time) == [("bob", 10)]


def test_top_broadcasters_of_the_day_and_week(
    boards, rich_bob, live_room, catalog, django_capture_on_commit_callbacks
):
    other = live_room_of("zoe")
    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "rose")
        send(rich_bob, other, "crown")

    today = timezone.localdate()
    for board in (leaderboards.day_board(today), leaderboards.week_board(today)):
        assert names(leaderboards.page(board)) == [("zoe", 499), ("alice", 5)]
    yesterday = today - timezone.timedelta(days=1)
    assert leaderboards.page(leaderboards.day_board(yesterday))["entries"] == []


def test_boards_are_read_a_page_at_a_time(
    boards, live_room, catalog, django_capture_on_commit_callbacks, unlimited_sends
):
    people = viewers(5)
    with django_capture_on_commit_callbacks(execute=True):
        for n, person in enumerate(people):
            send(person, live_room, "heart", 1 if n % 2 else 10)
            for _ in range(n):
                send(person, live_room, "donut")
    board = leaderboards.stream_board(live_room.current_stream_id)

    second = leaderboards.page(board, offset=2, limit=2)
    assert second["total"] == 5
    assert [entry["rank"] for entry in second["entries"]] == [3, 4]
    everyone = leaderboards.page(board, 0, 10)["entries"]
    assert second["entries"] == everyone[2:4]


def test_a_rebuild_from_the_ledger_gives_the_live_ranking(
    redis_url, live_room, catalog, django_capture_on_commit_callbacks, unlimited_sends
):
    other = live_room_of("zoe")
    people = viewers(8)
    gifts = ["heart", "rose", "ice-cream", "donut", "microphone"]
    randomly = random.Random(6)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(120):
            room = randomly.choice([live_room, other])
            send(randomly.choice(people), room, randomly.choice(gifts), randomly.choice([1, 10]))
    today = timezone.localdate()
    all_boards = [
        leaderboards.stream_board(live_room.current_stream_id),
        leaderboards.stream_board(other.current_stream_id),
        leaderboards.broadcaster_board(live_room.owner_id),
        leaderboards.broadcaster_board(other.owner_id),
        leaderboards.day_board(today),
        leaderboards.week_board(today),
    ]
    live = {board: leaderboards.page(board, 0, 100) for board in all_boards}

    client = leaderboards.redis_client()
    client.delete(*[board.key() for board in all_boards])  # Redis lost everything
    assert tasks.rebuild_leaderboards.apply().get() >= len(all_boards)

    for board in all_boards:
        assert leaderboards.page(board, 0, 100) == live[board]
        assert live[board]["entries"]
    # And the database's own ranking agrees on every score.
    database = leaderboards._ranking_from_database(all_boards[0], 0, 100)[0]
    redis = leaderboards.ranking(all_boards[0], 0, 100)[0]
    assert dict(database) == dict(redis)


def test_a_send_whose_boards_cannot_be_updated_still_goes_through(
    rich_bob, alice, live_room, catalog, monkeypatch, django_capture_on_commit_callbacks
):
    def redis_is_down(send):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr("gifts.leaderboards.record", redis_is_down)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = send(rich_bob, live_room, "rose")
    assert receipt.balance == 10_000 - 5
    assert coins.wallet_of(alice).diamonds == 2


@pytest.mark.parametrize(
    ("kind", "ident", "valid"),
    [
        ("stream", "12", True),
        ("stream", "x", False),
        ("day", "2026-11-26", True),
        ("day", "2026-13-01", False),
        ("week", "2026-W48", True),
        ("week", "2026-W60", False),
        ("month", "2026-11", False),
    ],
)
def test_board_names_from_urls_are_checked(kind, ident, valid):
    assert (leaderboards.parse_board(kind, ident) is not None) is valid


def test_the_rebuild_command_restores_lost_boards(
    redis_url, rich_bob, live_room, catalog, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "crown")
    board = leaderboards.stream_board(live_room.current_stream_id)
    leaderboards.redis_client().delete(board.key())
    out = StringIO()
    call_command("gifts_rebuild_leaderboards", "--now", stdout=out)
    assert "Rebuilt 4 leaderboards" in out.getvalue()
    assert names(leaderboards.page(board)) == [("bob", 499)]


def test_the_periodic_reconcile_repairs_a_drifted_board_and_reports_the_drift(
    redis_url, rich_bob, carol, live_room, catalog, client, django_capture_on_commit_callbacks
):
    coins.grant_coins(carol, 10_000, "test")
    with django_capture_on_commit_callbacks(execute=True):
        send(rich_bob, live_room, "crown")  # 499
        send(carol, live_room, "rose")  # 5
    board = leaderboards.stream_board(live_room.current_stream_id)
    redis = leaderboards.redis_client()
    redis.zincrby(board.key(), -499, rich_bob.pk)  # a ZINCRBY lost while Redis was down
    redis.zincrby(board.key(), 20, carol.pk)  # and one counted twice by a retry

    assert tasks.reconcile_leaderboards.apply().get() == 499 + 20
    assert names(leaderboards.page(board)) == [("bob", 499), ("carol", 5)]
    metrics = client.get("/metrics").content.decode()
    assert "livesite_gifts_leaderboard_drift_coins 519.0" in metrics

    assert tasks.reconcile_leaderboards.apply().get() == 0  # repaired: nothing left
    assert "livesite_gifts_leaderboard_drift_coins 0.0" in client.get("/metrics").content.decode()


def test_the_reconcile_is_scheduled(settings):
    from livesite.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "gifts.reconcile_leaderboards" in names
