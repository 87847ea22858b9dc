"""Redis killed and started again (empty) while viewers chat and send gifts.

One daphne runs on a Redis of the test's own. Mid-load that Redis gets SIGKILL and a
second later a fresh, empty one takes its port, as after a crash of a Redis that keeps
nothing on disk. Service must come back within seconds of the restart, every
acknowledged message must be stored, and the ledger must balance: no coin lost or
charged twice.
"""

import asyncio

import pytest

from chat.models import ChatMessage
from tests.support.servers import daphne_server, private_redis

from .conftest import LOAD_ENV
from .ledger_checks import assert_ledger_consistent
from .room_client import RoomClient

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]

BACK_WITHIN_SECONDS = 10


def test_redis_restart_loses_no_acknowledged_message_or_coin(
    shared_services, server_binaries, tmp_path, live_alice_room, gifting_viewers
):
    room = live_alice_room

    async def scenario(server, redis):
        loop = asyncio.get_running_loop()
        clients = [RoomClient([server.url], room.slug, cookie) for _, cookie in gifting_viewers]
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

        running = [asyncio.create_task(load(client, 6)) for client in clients]
        await asyncio.sleep(1.5)  # the scenario's timeline: load, then the fault
        await loop.run_in_executor(None, redis.kill)
        await asyncio.sleep(1)  # Redis stays away this long
        await loop.run_in_executor(None, redis.start)
        restarted_at = loop.time()
        await asyncio.gather(*running)
        await asyncio.gather(*(client.settle(timeout=15) for client in clients))
        for client in clients:
            await client.close()
        after = [t for client in clients for t in client.ack_times if t > restarted_at]
        return clients, (min(after) - restarted_at) if after else float("inf")

    with private_redis(tmp_path) as redis:
        env = {**LOAD_ENV, "REDIS_URL": redis.url}
        with daphne_server(env) as server:
            clients, back_after = asyncio.run(scenario(server, redis))

    print("DIAG stored", ChatMessage.objects.filter(room=room).count())
    print(f"first acknowledgement {back_after:.2f} s after the restart")
    assert back_after < BACK_WITHIN_SECONDS
    unacknowledged = sum(client.unacknowledged for client in clients)
    assert unacknowledged == 0
    acked = {int(i) for client in clients for i in client.acked_messages.values()}
    stored = set(ChatMessage.objects.filter(room=room).values_list("id", flat=True))
    assert len(acked) >= 150
    assert acked <= stored
    acked_gifts = {key for client in clients for key in client.acked_gifts}
    assert len(acked_gifts) >= 40
    assert_ledger_consistent(100_000, [user for user, _ in gifting_viewers], acked_gifts)
