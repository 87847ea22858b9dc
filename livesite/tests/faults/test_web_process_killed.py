"""kill -9 of one of two web processes while viewers chat: nothing acknowledged is lost.

Six viewers chat in one room, half on each daphne; one daphne is killed with SIGKILL
mid-load. Its viewers reconnect to the other (as behind a load balancer), resume, and
resend what was not acknowledged with the same nonces. Every acknowledged message must
be in the room's history, once.
"""

import asyncio
import os
import signal
import uuid

import pytest
from django.db.models import Count

from chat.ids import next_message_id
from chat.models import ChatMessage
from realtime.redis_client import get_sync_redis, redis_key
from tests.support.servers import daphne_server

from .conftest import LOAD_ENV
from .room_client import RoomClient

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_killed_web_process_loses_no_acknowledged_message(shared_services, alice_room, viewers):
    async def scenario(survivor, doomed):
        clients = []
        for n, (_user, cookie) in enumerate(viewers):
            urls = [doomed.url, survivor.url] if n % 2 else [survivor.url]
            clients.append(RoomClient(urls, alice_room.slug, cookie))
        for client in clients:
            await client.start()

        async def chat(client, count):
            for n in range(count):
                await client.send_chat(f"message {n}")
                await asyncio.sleep(0.1)

        load = [asyncio.create_task(chat(client, 40)) for client in clients]
        await asyncio.sleep(1.5)  # the scenario's timeline: load, then the fault
        os.kill(doomed.process.pid, signal.SIGKILL)
        await asyncio.gather(*load)
        await asyncio.gather(*(client.settle(timeout=5) for client in clients))
        for client in clients:
            await client.close()
        return clients

    with daphne_server(LOAD_ENV) as survivor, daphne_server(LOAD_ENV) as doomed:
        clients = asyncio.run(scenario(survivor, doomed))

    acked = {int(i) for client in clients for i in client.acked_messages.values()}
    stored = set(ChatMessage.objects.filter(room=alice_room).values_list("id", flat=True))
    assert len(acked) >= 150  # the load really ran
    assert acked <= stored  # 0 acknowledged messages lost
    # Each viewer of the killed process reconnected to the survivor and chatted on there.
    moved = clients[1::2]
    assert [client.closed_sockets for client in moved] == [1] * len(moved)
    assert all(client.connections[-1] == survivor.url for client in moved)
    assert all(max(client.ack_times) > client.connected_at for client in moved)
    duplicates = (
        ChatMessage.objects.filter(room=alice_room)
        .values("user", "text")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates  # a resent nonce was answered, never stored twice


def test_a_message_claimed_by_a_killed_process_is_delivered_when_resent(
    shared_services, alice_room, viewers
):
    user, cookie = viewers[0]
    nonce = uuid.uuid4().hex
    # What a process killed between claiming a nonce and storing its message leaves behind
    # (the claim's key as chat.services.send_message makes it).
    claim = redis_key("claim", f"nonce:{user.pk}:{nonce}")
    get_sync_redis().set(claim, next_message_id(), ex=600)

    async def scenario(server):
        client = RoomClient([server.url], alice_room.slug, cookie)
        await client.start()
        await client.send_chat("sent again after a crash", nonce=nonce)
        await client.settle(timeout=5)
        await client.close()
        return client

    with daphne_server(LOAD_ENV) as server:
        client = asyncio.run(scenario(server))
    assert client.unacknowledged == 0
    assert ChatMessage.objects.filter(room=alice_room, user=user).count() == 1
