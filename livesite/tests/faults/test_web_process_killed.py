"""kill -9 of one of two web processes while viewers chat: nothing acknowledged is lost.

Six viewers chat in one room, half on each daphne; one daphne is killed with SIGKILL
mid-load. Its viewers reconnect to the other (as behind a load balancer), resume, and
resend what was not acknowledged with the same nonces. Every acknowledged message must
be in the room's history, once.
"""

import asyncio
import os
import signal
import time

import pytest
from django.db.models import Count

from chat.models import ChatMessage
from livesite.testing import daphne_server

from .conftest import LOAD_ENV
from .room_client import RoomClient

pytestmark = [pytest.mark.faults, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_killed_web_process_loses_no_acknowledged_message(shared_services, alice_room, viewers):
    async def scenario(survivor, doomed):
        clients = []
        for n, (_user, cookie) in enumerate(viewers):
            first = doomed if n % 2 else survivor
            urls = [first.url, survivor.url] if first is doomed else [survivor.url]
            clients.append(RoomClient(urls, alice_room.slug, cookie))
        for client in clients:
            await client.start()

        async def chat(client, count):
            for n in range(count):
                await client.send_chat(f"message {n}")
                await asyncio.sleep(0.1)

        load = [asyncio.create_task(chat(client, 40)) for client in clients]
        await asyncio.sleep(1.5)
        os.kill(doomed.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        await asyncio.gather(*load)
        for client in clients:
            await client.settle(timeout=15)
        moved = clients[1::2]
        resumed_after = [
            time.monotonic() - killed_at for c in moved if c.connections[-1] == survivor.url
        ]
        for client in clients:
            await client.close()
        return clients, moved, resumed_after

    with daphne_server(LOAD_ENV) as survivor, daphne_server(LOAD_ENV) as doomed:
        clients, moved, resumed = asyncio.run(scenario(survivor, doomed))

    acked = {int(i) for client in clients for i in client.acked_messages.values()}
    stored = set(ChatMessage.objects.filter(room=alice_room).values_list("id", flat=True))
    assert len(acked) >= 150  # the load really ran
    assert acked <= stored  # 0 acknowledged messages lost
    assert all(client.unacknowledged == 0 for client in clients)  # every resend succeeded
    # Each viewer of the killed process reconnected to the survivor and carried on.
    assert len(resumed) == len(moved)
    assert all(client.closed_sockets == 1 for client in moved)
    duplicates = (
        ChatMessage.objects.filter(room=alice_room)
        .values("user", "text")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates  # a resent nonce was answered, never stored twice
