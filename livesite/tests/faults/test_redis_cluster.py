"""The site's data on a Redis Cluster: three masters with a replica each, started here.

Every pipeline, transaction, script and blocking pop the site sends runs against the
cluster (a CROSSSLOT refusal fails the test); the chat, gift, leaderboard and live lock
tests of the apps run again on it; and two web processes keep chat flowing while the
slot of the room's channel moves to another master and while a master is killed and
its replica takes over, losing no acknowledged message.
"""

import asyncio
import json
import re
import shutil
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from redis.cluster import key_slot

from chat.models import ChatMessage
from chat.tests.conftest import open_socket  # noqa: F401 -- a fixture of the chat tests
from chat.tests.test_gifts_socket import (  # noqa: F401 -- they run again on the cluster
    rose,
    test_a_gift_charges_once_and_animates_for_the_room,
)
from chat.tests.test_socket import (
    test_a_message_reaches_everyone_and_acknowledges_the_sender,
    test_a_viewer_is_greeted_with_history_and_counts,
)
from conftest import need_service
from gifts.tests.conftest import (  # noqa: F401
    catalog,
    isolated_leaderboards,
    live_room,
    rich_bob,
    unlimited_sends,
)
from gifts.tests.test_leaderboards import (  # noqa: F401
    boards,
    test_a_rebuild_from_the_ledger_gives_the_live_ranking,
    test_top_gifters_of_a_stream_rank_by_coins,
)
from realtime import redis_client
from realtime.publish import room_channel
from streaming.tests.test_live_lock import (  # noqa: F401
    make_lock,
    test_a_vanished_lock_is_taken_back_on_renewal,
    test_each_acquisition_takes_a_larger_fence_and_renewal_keeps_it,
    test_second_holder_is_refused_until_release,
)
from tests.support.servers import daphne_server

from .conftest import LOAD_ENV
from .private_servers import private_redis_cluster
from .room_client import RoomClient

pytestmark = [pytest.mark.faults, pytest.mark.services]

# Their own modules mark them; imported, they need the mark again.
for _socket_test in (
    test_a_gift_charges_once_and_animates_for_the_room,
    test_a_message_reaches_everyone_and_acknowledges_the_sender,
    test_a_viewer_is_greeted_with_history_and_counts,
):
    pytest.mark.django_db(transaction=True)(_socket_test)


# Every cluster here asks for a password (with the characters a URL would need quoted).
PASSWORD = "s3:cr@t"


def cluster_settings(settings, servers) -> None:
    """Point this process's data clients, cache and leaderboards at `servers`."""
    settings.REDIS_PASSWORD = servers.password
    settings.REDIS_CLUSTER_NODES = [("127.0.0.1", node.port) for node in servers.nodes]
    settings.REDIS_CLUSTER_URL = servers.url
    settings.GIFTS_LEADERBOARD_REDIS_URL = servers.url
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"]["LOCATION"] = [servers.url]
    settings.CACHES = caches


def need_cluster_binaries() -> None:
    for binary in ("redis-server", "redis-cli"):
        need_service(binary, shutil.which(binary) is not None, "a private cluster is started")


def forget_clients(url: str) -> None:
    for key in [key for key in redis_client._sync_clients if key[0] == url]:
        redis_client._sync_clients.pop(key).close()


@pytest.fixture(scope="module")
def redis_cluster():
    need_cluster_binaries()
    need_service("Redis (REDIS_URL)", bool(django_settings.REDIS_URL), "the channel layer")
    with private_redis_cluster(password=PASSWORD) as servers:
        yield servers
        forget_clients(servers.url)


@pytest.fixture(autouse=True)
def on_cluster(settings, redis_cluster, isolated_cache):
    cluster_settings(settings, redis_cluster)


@pytest.fixture
def redis_url(redis_cluster):
    """The apps' tests that ask for Redis get the cluster."""
    return redis_cluster.url


@pytest.mark.django_db(transaction=True)
async def test_every_pipeline_script_and_multi_key_read_runs_on_the_cluster(alice_room, settings):
    """Each call below sends a pipeline, a script, a transaction, a blocking pop or a read
    of many keys; keys of different slots in one of them would be refused (CROSSSLOT)."""
    from channels.db import database_sync_to_async

    from chat import limits, top
    from chat.ids import _process_number
    from gifts import gates
    from infra import ratelimit
    from moderation import enforcement
    from realtime import presence, publish
    from rooms import directory_feed
    from streaming.hls_nodes import NodeRegistry, node_address
    from streaming.ingest import handover
    from streaming.ingest.live_lock import RedisLiveLock, held_live_locks

    room = alice_room.pk
    try:
        await presence.write_snapshot(room, "p1", presence.Snapshot(2, 1, [{"id": 7}]))
        await presence.write_snapshot(room, "p2", presence.Snapshot(1, 0, []))
        assert (await presence.read_audience(room)).viewers == 4
        await presence.write_viewer_count(room, 4)
        await presence.remove_snapshot(room, "p2")
        counts = await database_sync_to_async(presence.viewer_counts)([room, 999_001, 999_002])
        assert counts == {room: 3, 999_001: 0, 999_002: 0}

        assert await limits.take_token("user:1", 1.0, 2) == 0
        assert await limits.claim_window("room:1", 5) == 0
        assert await limits.claim_once("nonce:1", 10, 5) is None
        assert await limits.take_over_claim("nonce:1", 10, 11, 5)
        await limits.release_claim("nonce:1")

        # The ingest's node registry, where the origin looks the room up.
        settings.INGEST_NODE_ID, settings.INGEST_NODE_HLS_ADDRESS = "a", "10.0.0.1:8081"
        nodes = NodeRegistry.from_django(5)
        await nodes.claim(room, "cluster-room", 12, None)
        await nodes.record_segment(room, 0, discontinuity=False)
        await nodes.renew(room, "cluster-room")
        assert await node_address("cluster-room") == "10.0.0.1:8081"
        assert (await nodes.handoff(room)).last_sequence == 0
        await nodes.clear(room, "cluster-room")
        assert await node_address("cluster-room") is None
        await nodes.close()

        lock = RedisLiveLock(redis_client.data_url(), django_settings.REDIS_KEY_PREFIX, 5)
        assert await lock.acquire(room, "t") == 1
        assert await lock.renew(room, "t") == 1
        locks = await database_sync_to_async(held_live_locks)([room, 999_001, 999_002])
        assert locks == {room}
        await lock.release(room, "t")
        await lock.close()

        client = redis_client.get_redis()
        await client.rpush(handover._queue_key("offers"), "{}")
        queues = [handover._queue_key("ingest", "x"), handover._queue_key("offers")]
        assert await client.blpop(queues, timeout=1) is not None

        await enforcement.alookup(room, 7)
        await directory_feed.page_opened(7)
        assert await database_sync_to_async(directory_feed.online_users)([7, 8]) == {7}

        def sync_calls():
            enforcement.lookup_many([(room, 7), (room + 1, 8)])
            enforcement.mark_loaded(room, [(7, "{}", 5.0), (8, "{}", 5.0)], "token")
            assert gates.pass_once("stats:1", 5, 1)
            top.rebuild(123)
            assert top.top_message_ids(123, 0, 10) == []
            cache.set_many({"a": 1, "b": 2, "c": 3}, 30)
            assert cache.get_many(["a", "b", "c", "d"]) == {"a": 1, "b": 2, "c": 3}
            cache.delete_many(["a", "b"])
            cache.set_many({"c": 3, "e": 5}, 0)  # Django's "expire at once"
            assert cache.get_many(["c", "e"]) == {}
            cache.set_many({"f": 6}, None)  # never expires
            assert cache.get("f") == 6
            assert ratelimit.hit("login", "1.2.3.4", 60) == 1
            publish.publish_many([(room, {"type": "x"}), (room + 1, {"type": "y"})])
            publish.publish(room, {"type": "x"})
            publish.publish_to_user({"type": "_disconnect", "user_id": 7, "code": 4401})
            assert _process_number() >= 1

        await database_sync_to_async(sync_calls)()
    finally:
        await redis_client.close_redis()


def test_room_keys_share_the_room_s_slot(settings):
    """Keys a script or pipeline of one room touches hash to one slot."""
    from realtime import presence
    from streaming.ingest.live_lock import _fence_key, live_lock_key

    room_keys = [
        live_lock_key(42),
        _fence_key(settings.REDIS_KEY_PREFIX, 42),
        presence._procs_key(42),
        presence._snapshot_key(42, "abc"),
        presence._viewers_key(42),
    ]
    assert len({key_slot(key.encode()) for key in room_keys}) == 1


def test_readyz_names_a_failed_cluster(db, client, settings):
    """A master with no replica dies: the cluster says fail, and /readyz names it."""
    import time

    settings.CELERY_TASK_ALWAYS_EAGER = True
    with private_redis_cluster(password=PASSWORD, replicas=0) as servers:
        cluster_settings(settings, servers)
        healthy = client.get("/readyz").json()
        servers.nodes[0].kill()
        deadline = time.monotonic() + 15
        while servers.cluster_info(servers.nodes[1].port)["cluster_state"] == "ok":
            assert time.monotonic() < deadline, "the cluster never noticed"
            time.sleep(0.1)
        settings.REDIS_CLUSTER_NODES = settings.REDIS_CLUSTER_NODES[1:]  # a live node first
        response = client.get("/readyz")
    forget_clients(servers.url)
    assert healthy["checks"]["redis_cluster"]["ok"] is True, healthy
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis_cluster"]
    assert body["checks"]["redis_cluster"]["detail"].startswith("cluster_state:fail")


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 -- loopback
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()


@pytest.mark.django_db(transaction=True)
def test_chat_survives_a_resharding_and_a_failed_master(shared_services, alice_room, viewers):
    """Two web processes on their own cluster: chat keeps flowing while the slot of the
    room's channel and keys moves to another master, and after the master then serving it
    is killed and its replica takes over. Nothing acknowledged is lost, and each process's
    viewers see the other's messages after both."""
    need_cluster_binaries()
    room = alice_room
    channel = room_channel(room.pk)
    slot = key_slot(channel.encode())

    async def scenario(web, servers):
        loop = asyncio.get_running_loop()
        clients = [
            RoomClient([web[n % 2].url], room.slug, cookie)
            for n, (_, cookie) in enumerate(viewers[:4])
        ]
        for client in clients:
            await client.start()

        async def chat(seconds):
            async def one(client):
                end, n = loop.time() + seconds, 0
                while loop.time() < end:
                    await client.send_chat(f"message {n}")
                    n += 1
                    await asyncio.sleep(0.1)

            await asyncio.gather(*(one(client) for client in clients))

        async def back_after(step) -> float:
            """Seconds from `step` (run under chat) to the next acknowledged message."""
            running = asyncio.create_task(chat(3))
            await asyncio.sleep(1)
            started = loop.time()
            await loop.run_in_executor(None, step)
            await running
            await asyncio.gather(*(client.settle(timeout=10) for client in clients))
            later = [t for client in clients for t in client.ack_times if t > started + 0.2]
            return (min(later) - started) if later else float("inf")

        await chat(1)
        subscribers = [await loop.run_in_executor(None, shard_subscribers, servers, channel)]
        gaps = [
            await back_after(lambda: move_slot(servers, slot)),
            await back_after(lambda: kill_master_of(servers, slot)),
        ]
        await chat(1.5)  # after both: does each side still hear the other?
        await asyncio.gather(*(client.settle(timeout=10) for client in clients))
        subscribers.append(await loop.run_in_executor(None, shard_subscribers, servers, channel))
        await asyncio.sleep(1)
        for client in clients:
            await client.close()
        return clients, gaps, subscribers

    with private_redis_cluster(password=PASSWORD) as servers:
        first_master = servers.master_of_slot(slot)
        env = {**LOAD_ENV, **servers.env, "REDIS_URL": django_settings.REDIS_URL}
        try:
            with daphne_server(env) as one, daphne_server(env) as other:
                clients, gaps, subscribers = asyncio.run(scenario([one, other], servers))
                ready = json.loads(fetch(one.url + "/readyz"))
                metrics = fetch(one.url + "/metrics") + fetch(other.url + "/metrics")
        finally:
            forget_clients(servers.url)
        new_master = servers.master_of_slot(slot)

    print(f"acknowledged again {gaps[0]:.2f} s after the resharding, {gaps[1]:.2f} s after a kill")
    assert new_master != first_master
    assert max(gaps) < BACK_WITHIN_SECONDS
    # Sharded pub/sub: both processes listen on the master serving the room's slot, the
    # first one and, after the move and the failover, the one serving it now.
    assert subscribers == [2, 2]
    assert ready["checks"]["redis_cluster"]["ok"] is True, ready
    # The publishers followed the moved slot (MOVED) and lost the killed master.
    for kind in ("moved", "connection"):
        counted = rf'^livesite_redis_cluster_errors_total\{{kind="{kind}"\}} [1-9]'
        assert re.search(counted, metrics, re.M), (kind, metrics)
    assert sum(client.unacknowledged for client in clients) == 0
    acked = {int(i) for client in clients for i in client.acked_messages.values()}
    stored = set(ChatMessage.objects.filter(room=room).values_list("id", flat=True))
    assert len(acked) >= 100
    assert acked <= stored
    for n, sender in enumerate(clients):
        last = list(sender.acked_messages.values())[-5:]
        for viewer in clients[1 - n % 2 :: 2]:
            assert set(last) <= viewer.seen_ids, (n, clients.index(viewer))


BACK_WITHIN_SECONDS = 10


def shard_subscribers(servers, channel: str) -> int:
    """Subscribers of a shard channel on the master serving its slot."""
    master = servers.master_of_slot(key_slot(channel.encode()))
    reply = servers.client(master).execute_command("PUBSUB", "SHARDNUMSUB", channel)
    return int(reply[1])


def move_slot(servers, slot: int) -> None:
    """`redis-cli --cluster reshard` of one slot to another master, keys and all."""
    source = servers.master_of_slot(slot)
    target = next(port for port in servers.masters() if port != source)
    source_id = servers.client(source).execute_command("CLUSTER", "MYID").decode()
    target_id = servers.client(target).execute_command("CLUSTER", "MYID").decode()
    # reshard moves the lowest slots of the source; move exactly ours by hand instead,
    # the way reshard does each slot: importing, migrating, MIGRATE the keys, assign.
    servers.client(target).execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    servers.client(source).execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    while keys := servers.client(source).execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
        servers.client(source).execute_command(
            "MIGRATE", "127.0.0.1", target, "", 0, 5000, "AUTH", servers.password, "KEYS", *keys
        )
    for port in servers.masters():
        servers.client(port).execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
    assert servers.master_of_slot(slot) == target


def kill_master_of(servers, slot: int) -> None:
    """SIGKILL the master serving `slot`; its replica is promoted within seconds."""
    import time

    master = servers.master_of_slot(slot)
    servers.node(master).kill()
    deadline = time.monotonic() + 20
    while servers.master_of_slot(slot) == master:
        assert time.monotonic() < deadline, "no replica took over"
        time.sleep(0.1)
    servers.wait_until_ok(20, without=(master,))


@pytest.mark.media
@pytest.mark.django_db(transaction=True)
def test_an_ingest_keeps_its_live_lock_on_the_cluster_and_drops_a_stolen_one(
    tmp_path, redis_cluster, alice, alice_room
):
    """`manage.py ingest` on the cluster: the room goes live, the lock outlives its own
    lifetime through renewals (its scripts run on the slot of the room's tag), and when
    another ingest's lock replaces it (a failover that lost it) the publisher is dropped."""
    import time

    from rooms import services as rooms
    from rooms.models import Room
    from streaming.ingest.live_lock import live_lock_key
    from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, wait_for

    need_service("ffmpeg", shutil.which("ffmpeg") is not None, "the publisher")
    key = rooms.rotate_stream_key(alice_room, alice)

    def status():
        return Room.objects.values_list("status", flat=True).get(pk=alice_room.pk)

    client = redis_client.new_client(redis_cluster.url)
    env = {**redis_cluster.env, "INGEST_LOCK_TTL": "3"}
    with ingest_process(tmp_path, env) as ingest:
        publisher = ffmpeg_publish(ingest.url(key), seconds=30)
        try:
            wait_for(lambda: status() == "live", timeout=20)
            time.sleep(3.5)  # past the lock's lifetime: only renewals keep it
            assert status() == "live"
            held = client.get(live_lock_key(alice_room.pk)).decode()
            fence = int(held.split(":")[0])
            client.set(live_lock_key(alice_room.pk), f"{fence + 1}:another", px=10_000)
            wait_for(lambda: "live lock lost" in ingest.log_text(), timeout=5)
            assert publisher.wait(timeout=10) is not None
        finally:
            publisher.kill()
            publisher.wait(timeout=10)
            client.close()
    assert fence >= 1
