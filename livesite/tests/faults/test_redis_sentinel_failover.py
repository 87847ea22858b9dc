"""The Redis master killed under chat, gifts and a live stream; Sentinel promotes its replica.

A private set of one master, one replica and three sentinels serves one daphne and one
`manage.py ingest` (with an ffmpeg publisher on the room), configured only through
REDIS_SENTINELS and REDIS_SENTINEL_MASTER. Mid-load the master gets SIGKILL and stays
dead. The sentinels call it down after a second and promote the replica; every client
must follow: chat is acknowledged again within seconds of the kill, every acknowledged
message is stored, gift sends that failed during the switch succeed when resent with
their idempotency keys and are charged once, and the room stays live on the same
stream, its publisher never dropped.
"""

import asyncio
import json
import re
import shutil
import urllib.error
import urllib.request

import pytest
import redis

from chat.models import ChatMessage
from conftest import need_service
from rooms import services as rooms
from rooms.models import Room
from streaming.ingest.live_lock import live_lock_key
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, wait_for
from tests.support.servers import daphne_server
from tests.support.waiting import eventually

from .conftest import LOAD_ENV
from .ledger_checks import assert_ledger_consistent
from .private_servers import private_sentinel_set
from .room_client import RoomClient

pytestmark = [
    pytest.mark.faults,
    pytest.mark.services,
    pytest.mark.media,
    pytest.mark.django_db(transaction=True),
]

BACK_WITHIN_SECONDS = 10


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 -- loopback
            return response.read().decode()
    except urllib.error.HTTPError as error:  # /readyz answers 503 with what failed
        return error.read().decode()


LOCK_TTL = 3  # renewals every second: several fall inside the failover


def test_master_failover_loses_no_acknowledged_message_coin_or_live_room(
    shared_services, tmp_path, alice, alice_room, gifting_viewers
):
    need_service("redis-server", shutil.which("redis-server") is not None, "sentinels are started")
    need_service("ffmpeg", shutil.which("ffmpeg") is not None, "a publisher keeps the room live")
    room = alice_room
    key = rooms.rotate_stream_key(room, alice)

    async def scenario(web, servers):
        loop = asyncio.get_running_loop()
        # Viewers on two web processes: a message reaches the other process's viewers only
        # through the Redis room feed.
        clients = [
            RoomClient([web[n % 2].url], room.slug, cookie)
            for n, (_, cookie) in enumerate(gifting_viewers)
        ]
        for client in clients:
            await client.start()

        async def load(client, seconds):
            end = loop.time() + seconds
            n = 0
            while loop.time() < end:
                await client.send_chat(f"message {n}")
                if n % 4 == 0:
                    await client.send_gift("rose", 1)
                n += 1
                await asyncio.sleep(0.1)

        running = [asyncio.create_task(load(client, 8)) for client in clients]
        await asyncio.sleep(1.5)  # the scenario's timeline: load, then the fault
        await loop.run_in_executor(None, servers.master.kill)
        killed_at = loop.time()
        await asyncio.gather(*running)
        await asyncio.gather(*(client.settle(timeout=15) for client in clients))
        await eventually(
            lambda: last_messages_crossed(clients), 10, "the last messages' fan-out"
        )
        for client in clients:
            await client.close()
        after = [t for client in clients for t in client.ack_times if t > killed_at + 0.5]
        return clients, (min(after) - killed_at) if after else float("inf")

    with private_sentinel_set() as servers:
        first_master = servers.master.port
        env = {**LOAD_ENV, **servers.env}
        ingest_env = {**servers.env, "INGEST_LOCK_TTL": str(LOCK_TTL)}
        with ingest_process(tmp_path / "ingest", ingest_env) as ingest:
            publisher = ffmpeg_publish(ingest.url(key), seconds=90)
            try:
                wait_for(lambda: Room.objects.get(pk=room.pk).status == "live", timeout=30)
                stream = Room.objects.get(pk=room.pk).current_stream_id
                with daphne_server(env) as server, daphne_server(env) as other:
                    clients, back_after = asyncio.run(scenario([server, other], servers))
                    ready = json.loads(fetch(server.url + "/readyz"))
                    metrics = fetch(server.url + "/metrics")
                promoted = servers.master_port()
                lock_on_new_master = redis.Redis("127.0.0.1", promoted).get(live_lock_key(room.pk))
                status, stream_after = Room.objects.values_list("status", "current_stream_id").get(
                    pk=room.pk
                )
                still_publishing = publisher.poll() is None
                ingest_log = ingest.log.read_text()
            finally:
                publisher.kill()
                publisher.wait(timeout=10)

    print(f"first acknowledgement {back_after:.2f} s after the master was killed")
    assert promoted != first_master
    # Everything ran on the Sentinel set (not on a fallback) and followed the promotion.
    assert ready["status"] == "ok", ready
    assert "redis_sentinel_quorum" in ready["checks"]
    assert re.search(r"^livesite_redis_master_changes_total [1-9]", metrics, re.M), metrics
    assert lock_on_new_master is not None
    assert back_after < BACK_WITHIN_SECONDS
    assert sum(client.unacknowledged for client in clients) == 0
    acked = {int(i) for client in clients for i in client.acked_messages.values()}
    stored = set(ChatMessage.objects.filter(room=room).values_list("id", flat=True))
    assert len(acked) >= 200
    assert acked <= stored
    # Long after the switch, each viewer's messages reached the viewers of the other process.
    assert last_messages_crossed(clients)
    acked_gifts = {key for client in clients for key in client.acked_gifts}
    assert len(acked_gifts) >= 50
    # A send that failed in the switch said so with a code (the client resent it).
    assert all(error.get("code") for client in clients for error in client.gift_errors)
    assert_ledger_consistent(100_000, [user for user, _ in gifting_viewers], acked_gifts)
    # The room stayed live on the same stream: the ingest kept its lock through the switch.
    assert (status, stream_after) == ("live", stream)
    assert still_publishing
    assert "live lock lost" not in ingest_log


def test_readyz_names_a_lost_sentinel_quorum(client, settings):
    need_service("redis-server", shutil.which("redis-server") is not None, "sentinels are started")
    from livesite.config import sentinel_url

    with private_sentinel_set() as servers:
        settings.REDIS_SENTINELS = [("127.0.0.1", s.port) for s in servers.sentinels]
        settings.REDIS_SENTINEL_MASTER = servers.env["REDIS_SENTINEL_MASTER"]
        settings.REDIS_URL = sentinel_url(
            settings.REDIS_SENTINELS, settings.REDIS_SENTINEL_MASTER, 0
        )
        settings.CELERY_TASK_ALWAYS_EAGER = True
        healthy = client.get("/readyz").json()
        servers.sentinels[0].kill()
        servers.sentinels[1].kill()
        response = client.get("/readyz")
    assert healthy["checks"]["redis_sentinel_quorum"]["ok"] is True, healthy
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis_sentinel_quorum"]


PASSWORD_PROBE = """
import asyncio, django
django.setup()
from django.core.cache import cache
from livesite import health
from livesite.celery import app
from realtime.redis_client import get_redis, get_sync_redis
get_sync_redis().set("probe", "1")
cache.set("probe", "v")
assert cache.get("probe") == "v"
app.backend.set("probe", "1")
health.check_redis()
health.check_sentinel_quorum()
health.check_celery_broker()
health.check_channel_layer()
async def read():
    return await get_redis().get("probe")
assert asyncio.run(read()) == b"1"
print("every client authenticated")
"""


def test_every_redis_user_authenticates_through_sentinel_with_passwords(tmp_path):
    """requirepass on master and replica, and on the sentinels: the app's clients, the cache,
    Celery's broker and results and the channel layer all get in (a password with : and @)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    need_service("redis-server", shutil.which("redis-server") is not None, "sentinels are started")
    with private_sentinel_set(password="s3:cr@t") as servers:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "CELERY"))}
        result = subprocess.run(
            [sys.executable, "-c", PASSWORD_PROBE],
            cwd=Path(__file__).resolve().parents[3],
            env={**clean, "DJANGO_SETTINGS_MODULE": "livesite.settings", **servers.env},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "every client authenticated" in result.stdout


def last_messages_crossed(clients) -> bool:
    """Each viewer's last ten acknowledged messages reached every viewer on the other
    process (viewers alternate between the two)."""
    for n, sender in enumerate(clients):
        last = set(list(sender.acked_messages.values())[-10:])
        if not all(last <= viewer.seen_ids for viewer in clients[1 - n % 2 :: 2]):
            return False
    return True
