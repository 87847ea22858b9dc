"""Leaderboards: top gifters of a stream and of a broadcaster, top broadcasters by day and week.

The gift sends in the database are the source of truth; a board is a view of
them, scored in coins.

With Redis configured (`GIFTS_LEADERBOARD_REDIS_URL`, by default `REDIS_URL`)
each board is a sorted set: every committed send adds its coins with ZINCRBY
(one pipelined round trip for its four boards, after the commit, so a rolled
back send is never counted), and pages are ZREVRANGE reads. Equal scores are
ordered by member, the same way after a rebuild as live. `rebuild` recomputes
a board from the database into a temporary key and RENAMEs it over the live
one: it is a repair (Redis lost, a ZINCRBY dropped because Redis was down),
and a send committing in the few milliseconds between the rebuild's query and
its RENAME may be missed or counted twice until the next rebuild.

Without Redis (the embedded, one-process install) there is no second copy to
keep: every read aggregates the sends in the database with GROUP BY, which is
exact and fast enough for one process, and rebuilding is a no-op.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import redis
from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.utils import timezone

from gifts import conf
from gifts.models import GiftSend
from realtime.redis_client import get_sync_redis

STREAM, BROADCASTER, DAY, WEEK = "stream", "broadcaster", "day", "week"
KINDS = (STREAM, BROADCASTER, DAY, WEEK)
REBUILD_CHUNK = 1000


@dataclass(frozen=True)
class Board:
    kind: str
    ident: str  # stream id, broadcaster id, "2026-11-26" or "2026-W48"

    @property
    def member_field(self) -> str:
        """Stream and broadcaster boards rank senders; day and week boards rank broadcasters."""
        return "sender_id" if self.kind in (STREAM, BROADCASTER) else "recipient_id"

    def key(self) -> str:
        # The board's own hash tag: `rebuild` RENAMEs a temporary key over it, and on a
        # Redis Cluster both keys of a RENAME must be in one slot.
        return f"{conf.leaderboard_key_prefix()}:{{{self.kind}:{self.ident}}}"

    def sends(self):
        if self.kind == STREAM:
            return GiftSend.objects.filter(stream_id=int(self.ident))
        if self.kind == BROADCASTER:
            return GiftSend.objects.filter(recipient_id=int(self.ident))
        start, end = _period(self)
        return GiftSend.objects.filter(created_at__gte=start, created_at__lt=end)


def stream_board(stream_id: int) -> Board:
    return Board(STREAM, str(stream_id))


def broadcaster_board(user_id: int) -> Board:
    return Board(BROADCASTER, str(user_id))


def day_board(day: date) -> Board:
    return Board(DAY, day.isoformat())


def week_board(day: date) -> Board:
    year, week, _ = day.isocalendar()
    return Board(WEEK, f"{year}-W{week:02d}")


def boards_for(send: GiftSend) -> list[Board]:
    """The boards one send scores on; the stream's first (its total is the one rooms show)."""
    day = timezone.localdate(send.created_at)
    boards = [broadcaster_board(send.recipient_id), day_board(day), week_board(day)]
    if send.stream_id:
        boards.insert(0, stream_board(send.stream_id))
    return boards


def _period(board: Board) -> tuple[datetime, datetime]:
    if board.kind == DAY:
        first, days = date.fromisoformat(board.ident), 1
    else:
        first, days = date.fromisocalendar(*_iso_week(board.ident), 1), 7
    start = timezone.make_aware(datetime.combine(first, time.min))
    return start, timezone.make_aware(datetime.combine(first + timedelta(days=days), time.min))


def _iso_week(ident: str) -> tuple[int, int]:
    year, week = ident.split("-W")
    return int(year), int(week)


def parse_board(kind: str, ident: str) -> Board | None:
    """A board named by a URL, or None when the name is not one."""
    try:
        if kind in (STREAM, BROADCASTER) and ident.isdigit():
            return Board(kind, str(int(ident)))
        if kind == DAY:
            return day_board(date.fromisoformat(ident))
        if kind == WEEK:
            year, week = _iso_week(ident)
            date.fromisocalendar(year, week, 1)
            return Board(WEEK, f"{year}-W{week:02d}")
    except ValueError:
        return None
    return None


# --- Backends ------------------------------------------------------------------------------


def redis_client() -> redis.Redis | None:
    return get_sync_redis(conf.leaderboard_redis_url(), decode_responses=True)


def record(send: GiftSend) -> dict:
    """Score a committed send on its boards; the sender's new totals on the room's boards."""
    return record_many([send])[0]


def record_many(sends: list[GiftSend]) -> list[dict]:
    """`record` for several sends, in one Redis round trip."""
    client = redis_client()
    all_boards = [boards_for(send) for send in sends]
    if client is None:
        scores = [
            [_score_from_database(board, send) for board in boards[:2]]
            for send, boards in zip(sends, all_boards, strict=True)
        ]
    else:
        pipe = client.pipeline(transaction=False)
        for send, boards in zip(sends, all_boards, strict=True):
            for board in boards:
                member = send.sender_id if board.member_field == "sender_id" else send.recipient_id
                pipe.zincrby(board.key(), send.coins, member)
        replies = iter(pipe.execute())
        scores = []
        for boards in all_boards:
            mine = [next(replies) for _ in boards]
            scores.append([int(score) for score in mine[:2]])
    return [
        dict(zip([board.kind for board in boards[:2]], totals, strict=True))
        for boards, totals in zip(all_boards, scores, strict=True)
    ]


def _score_from_database(board: Board, send: GiftSend) -> int:
    member = send.sender_id if board.member_field == "sender_id" else send.recipient_id
    total = board.sends().filter(**{board.member_field: member}).aggregate(s=Sum("coins"))
    return int(total["s"] or 0)


def ranking(board: Board, offset: int = 0, limit: int = 10) -> tuple[list[tuple[int, int]], int]:
    """(member id, score) from the top, and how many members the board has."""
    return rankings([board], offset, limit)[0]


def rankings(boards: list[Board], offset: int, limit: int) -> list[tuple[list, int]]:
    """`ranking` of several boards, in one Redis round trip."""
    client = redis_client()
    if client is None:
        return [_ranking_from_database(board, offset, limit) for board in boards]
    pipe = client.pipeline(transaction=False)
    for board in boards:
        pipe.zrevrange(board.key(), offset, offset + limit - 1, withscores=True)
        pipe.zcard(board.key())
    replies = pipe.execute()
    return [
        ([(int(member), int(score)) for member, score in rows], total)
        for rows, total in zip(replies[::2], replies[1::2], strict=True)
    ]


def _ranking_from_database(board: Board, offset: int, limit: int):
    field = board.member_field
    scored = board.sends().values(field).annotate(score=Sum("coins")).order_by("-score", field)
    rows = [(row[field], int(row["score"])) for row in scored[offset : offset + limit]]
    total = board.sends().aggregate(n=Count(field, distinct=True))["n"]
    return rows, total


def page(board: Board, offset: int = 0, limit: int = 10) -> dict:
    """A board page as clients see it (REST, the room's leaderboard frame)."""
    return pages([board], offset, limit)[0]


def pages(boards: list[Board], offset: int = 0, limit: int = 10) -> list[dict]:
    """`page` of several boards: one Redis round trip and one query for the names."""
    ranked = rankings(boards, offset, limit)
    members = {member for rows, _ in ranked for member, _ in rows}
    users = get_user_model().objects.filter(pk__in=members).only("username", "display_name")
    names = {user.pk: (user.username, user.public_name) for user in users}
    return [
        {
            "board": board.kind,
            "id": board.ident,
            "total": total,
            "entries": [
                _entry(rank, names.get(member), score)
                for rank, (member, score) in enumerate(rows, start=offset + 1)
            ],
        }
        for board, (rows, total) in zip(boards, ranked, strict=True)
    ]


def _entry(rank: int, name: tuple[str, str] | None, score: int) -> dict:
    username, public_name = name or (None, "(deleted)")
    return {"rank": rank, "user": {"username": username, "name": public_name}, "score": score}


def rebuild(board: Board) -> int:
    """Recompute a Redis board from the database; the number of members. No-op without Redis."""
    client = redis_client()
    if client is None:
        return 0
    field = board.member_field
    scored = board.sends().values(field).annotate(score=Sum("coins")).order_by(field)
    temporary = f"{board.key()}:rebuild:{timezone.now().timestamp()}"
    members = 0
    mapping: dict[str, int] = {}
    for row in scored.iterator(chunk_size=REBUILD_CHUNK):
        mapping[str(row[field])] = int(row["score"])
        members += 1
        if len(mapping) >= REBUILD_CHUNK:
            client.zadd(temporary, mapping)
            mapping = {}
    if mapping:
        client.zadd(temporary, mapping)
    if members:
        client.rename(temporary, board.key())
    else:
        client.delete(board.key())
    return members


def boards_to_rebuild(since: datetime | None = None) -> list[Board]:
    """Every board the sends since `since` (all sends when None) score on."""
    sends = (
        GiftSend.objects.all() if since is None else GiftSend.objects.filter(created_at__gte=since)
    )
    boards: set[Board] = set()
    for stream_id in sends.exclude(stream=None).values_list("stream_id", flat=True).distinct():
        boards.add(stream_board(stream_id))
    for recipient_id in sends.values_list("recipient_id", flat=True).distinct():
        boards.add(broadcaster_board(recipient_id))
    for created_at in sends.dates("created_at", "day"):
        boards.add(day_board(created_at))
        boards.add(week_board(created_at))
    return sorted(boards, key=lambda board: (board.kind, board.ident))


def drift(board: Board) -> int:
    """Coins by which the Redis board differs from the database, summed over members
    (0 without Redis, where the database is the board)."""
    client = redis_client()
    if client is None:
        return 0
    field = board.member_field
    truth = {
        int(row[field]): int(row["score"])
        for row in board.sends().values(field).annotate(score=Sum("coins")).order_by()
    }
    held = {
        int(member): int(score)
        for member, score in client.zrange(board.key(), 0, -1, withscores=True)
    }
    return sum(
        abs(truth.get(member, 0) - held.get(member, 0)) for member in truth.keys() | held.keys()
    )


DRIFT_KEY = "gifts:leaderboard-drift"


def record_drift(coins: int) -> None:
    """The last reconcile's drift, for /metrics in every web process (gifts.metrics)."""
    from django.core.cache import cache

    cache.set(DRIFT_KEY, coins, timeout=None)


def last_drift() -> int | None:
    from django.core.cache import cache

    return cache.get(DRIFT_KEY)


def room_snapshot(room, size: int | None = None) -> dict:
    """The room's boards for a first render: this stream's gifters and the broadcaster's."""
    size = size or conf.leaderboard_room_size()
    boards = [broadcaster_board(room.owner_id)]
    if room.current_stream_id:
        boards.append(stream_board(room.current_stream_id))
    return dict(zip(["broadcaster", "stream"], pages(boards, 0, size), strict=False))
