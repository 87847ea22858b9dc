"""What an unknown peer may cost the ingest: raw sockets, no media tools.

Until its publish is accepted a peer may make the server hold at most
`max_bytes_before_publish` (64 KiB), and one address may hold at most
`max_connections_per_address` connections; a publisher whose key was accepted may send
full-size media. Handshake and idle timeouts are in test_hostile_input.py.
"""

import asyncio
import struct

from streaming.rtmp.messages import Message, MessageType
from streaming.rtmp.server import ServerLimits

from .harness import ALICE_KEY, TEST_LIMITS, Broadcasts, hand_built_chunk, running_server
from .rawclient import RawPublisher
from .test_server import publishing

BIG_CHUNKS = Message(MessageType.SET_CHUNK_SIZE, 0, 0, struct.pack(">I", 65536), 2)


def test_a_big_message_before_publish_is_refused_before_its_body(rtmp_log):
    async def scenario():
        async with running_server(Broadcasts()) as server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            # 100 KB "video" before any publish: under the 4 MiB media limit, but no
            # unknown peer needs more than a few hundred bytes of commands.
            await client.send(BIG_CHUNKS)
            await client.send_raw(hand_built_chunk(0, 6, length=100_000, body=bytes(1000)))
            return await client.closed_by_server_within(1.0)

    assert asyncio.run(scenario())
    assert "message of 100000 bytes exceeds the 65536-byte limit" in rtmp_log.text


def test_unfinished_messages_before_publish_cannot_add_up_past_the_cap(rtmp_log):
    async def scenario():
        async with running_server(Broadcasts()) as server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            chunk_size = struct.pack(">I", 30_000)
            await client.send(Message(MessageType.SET_CHUNK_SIZE, 0, 0, chunk_size, 2))
            # Three 60 KB messages on three chunk streams, each only its first 30 KB chunk.
            for csid in (10, 11, 12):
                chunk = hand_built_chunk(0, csid, length=60_000, body=bytes(30_000))
                await client.send_raw(chunk)
            return await client.closed_by_server_within(1.0)

    assert asyncio.run(scenario())
    assert "too many bytes of unfinished messages" in rtmp_log.text


def test_a_publisher_whose_key_was_accepted_may_send_big_frames():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            alice = await publishing(server, ALICE_KEY)
            await alice.send(BIG_CHUNKS)
            alice.encoder.chunk_size = 65536
            keyframe = b"\x17\x01" + bytes(300_000)  # a 1080p keyframe is this big
            await alice.send_media(1, keyframe)
            await alice.send_media(1)
            session = await broadcasts.session_of("alice")
            async with asyncio.timeout(5):
                while len(session.flv) < 300_000:
                    await asyncio.sleep(0.02)
            alice.close()

    asyncio.run(scenario())


def test_one_address_cannot_take_every_connection(rtmp_log):
    limits = ServerLimits(
        handshake_timeout=TEST_LIMITS.handshake_timeout,
        idle_timeout=TEST_LIMITS.idle_timeout,
        publish_timeout=TEST_LIMITS.publish_timeout,
        max_connections_per_address=2,
    )
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts, limits) as server:
            alice = await publishing(server, ALICE_KEY)
            idle = await RawPublisher.open(server.port)
            await idle.handshake()
            third = await RawPublisher.open(server.port)
            third_refused = await third.closed_by_server_within(1.0)
            idle_open = not await idle.closed_by_server_within(0.3)
            # A slot freed is a slot given back.
            idle.close()
            await asyncio.sleep(0.2)
            again = await RawPublisher.open(server.port)
            await again.handshake()
            again_open = not await again.closed_by_server_within(0.3)
            await alice.send_media(2)
            await broadcasts.session_of("alice")
            again.close()
            return third_refused, idle_open, again_open

    assert asyncio.run(scenario()) == (True, True, True)
    assert rtmp_log.text.count("per-address connection limit") == 1
