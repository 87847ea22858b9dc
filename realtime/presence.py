"""Who is in a room, across every web process.

Each process counts its own sockets per room (chat/audience.py) and publishes a small
snapshot of them here: anonymous viewers, signed-in viewers, and a capped list
of who they are. A join or leave changes only the process's own counters
(O(1)); the hub writes the snapshot at most once a second, and re-writes it as
a heartbeat. Snapshots expire, so a process that dies drops out of every room
within CHAT_PRESENCE_TTL seconds without anyone cleaning up after it.

With Redis: a set of process ids per room, and one hash per (room, process)
with an expiry, all under the room's hash tag so that on a Redis Cluster the
pipelines that write and read them go to one node. Without Redis (embedded
defaults, one process): a dict.
A user connected through two processes is counted once per process.

Pages that list many rooms (the directory's cards) need only each room's total,
for many rooms at once, from sync code. Every hub with viewers in a room writes
the room's total to one key when it changes and at each heartbeat, with the
snapshots' expiry, so a room whose processes all died drops to 0 by itself;
`viewer_counts` reads any number of rooms with one MGET.
"""

import json
import time
from dataclasses import dataclass, field

from realtime import conf
from realtime.redis_client import get_redis, get_sync_redis, read_many, redis_key, room_tag


def snapshot_ttl() -> int:
    """Seconds a snapshot lives without a heartbeat (heartbeats come every third of it)."""
    return conf.presence_ttl()


AUDIENCE_LIST_LIMIT = 100


@dataclass
class Snapshot:
    anonymous: int = 0
    signed_in: int = 0
    users: list[dict] = field(default_factory=list)  # at most AUDIENCE_LIST_LIMIT


@dataclass
class Audience:
    viewers: int
    logged_in: int
    users: list[dict]

    @property
    def anonymous(self) -> int:
        return self.viewers - self.logged_in


_local: dict[int, dict[str, Snapshot]] = {}
_local_counts: dict[int, tuple[int, float]] = {}  # room id -> (viewers, expires at, monotonic)


def _procs_key(room_id: int) -> str:
    return redis_key("presence", room_tag(room_id), "procs")


def _snapshot_key(room_id: int, process_id: str) -> str:
    return redis_key("presence", room_tag(room_id), "proc", process_id)


async def write_snapshot(room_id: int, process_id: str, snapshot: Snapshot) -> None:
    client = get_redis()
    if client is None:
        _local.setdefault(room_id, {})[process_id] = snapshot
        return
    key = _snapshot_key(room_id, process_id)
    users = json.dumps(snapshot.users[:AUDIENCE_LIST_LIMIT], separators=(",", ":"))
    async with client.pipeline(transaction=False) as pipe:
        pipe.hset(
            key, mapping={"anon": snapshot.anonymous, "users": snapshot.signed_in, "list": users}
        )
        pipe.expire(key, snapshot_ttl())
        pipe.sadd(_procs_key(room_id), process_id)
        pipe.expire(_procs_key(room_id), snapshot_ttl() * 4)
        await pipe.execute()


async def remove_snapshot(room_id: int, process_id: str) -> None:
    """Take this process out of the room, and rewrite the room's total without it.

    Without the rewrite, a room whose last viewer just left would keep showing
    them on the directory until the count expired.
    """
    client = get_redis()
    if client is None:
        _local.get(room_id, {}).pop(process_id, None)
    else:
        async with client.pipeline(transaction=False) as pipe:
            pipe.delete(_snapshot_key(room_id, process_id))
            pipe.srem(_procs_key(room_id), process_id)
            await pipe.execute()
    await write_viewer_count(room_id, (await read_audience(room_id)).viewers)


async def read_audience(room_id: int) -> Audience:
    client = get_redis()
    if client is None:
        snapshots = list(_local.get(room_id, {}).values())
    else:
        snapshots = await _read_redis_snapshots(client, room_id)
    seen, users = set(), []
    for snapshot in snapshots:
        for user in snapshot.users:
            if user["id"] not in seen and len(users) < AUDIENCE_LIST_LIMIT:
                seen.add(user["id"])
                users.append(user)
    logged_in = sum(s.signed_in for s in snapshots)
    return Audience(sum(s.anonymous for s in snapshots) + logged_in, logged_in, users)


async def _read_redis_snapshots(client, room_id: int) -> list[Snapshot]:
    processes = [p.decode() for p in await client.smembers(_procs_key(room_id))]
    if not processes:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for process_id in processes:
            pipe.hgetall(_snapshot_key(room_id, process_id))
        rows = await pipe.execute()
    snapshots, gone = [], []
    for process_id, row in zip(processes, rows, strict=True):
        if not row:  # that process stopped heartbeating: its snapshot expired
            gone.append(process_id)
            continue
        snapshots.append(Snapshot(int(row[b"anon"]), int(row[b"users"]), json.loads(row[b"list"])))
    if gone:
        await client.srem(_procs_key(room_id), *gone)
    return snapshots


def _viewers_key(room_id: int) -> str:
    return redis_key("presence", room_tag(room_id), "viewers")


async def write_viewer_count(room_id: int, viewers: int) -> None:
    """Publish the room's total for `viewer_counts`; it lives one snapshot TTL."""
    client = get_redis()
    if client is None:
        _local_counts[room_id] = (viewers, time.monotonic() + snapshot_ttl())
        return
    await client.set(_viewers_key(room_id), viewers, ex=snapshot_ttl())


def viewer_counts(room_ids) -> dict[int, int]:
    """How many watch each room (0 for a room nobody watches): one MGET (one per node on
    a cluster), for sync code."""
    room_ids = list(room_ids)
    if not room_ids:
        return {}
    client = get_sync_redis()
    if client is None:
        now = time.monotonic()
        counts = {}
        for room_id in room_ids:
            viewers, expires_at = _local_counts.get(room_id, (0, now))
            counts[room_id] = viewers if expires_at > now else 0
        return counts
    values = read_many(client, [_viewers_key(room_id) for room_id in room_ids])
    return {
        room_id: int(value) if value is not None else 0
        for room_id, value in zip(room_ids, values, strict=True)
    }
