"""Server lifecycle and isolation, driven by the scripted RawPublisher (no media tools)."""

import asyncio
import itertools
import struct

import pytest

from streaming.rtmp import messages
from streaming.rtmp.errors import PublishRejected
from streaming.rtmp.messages import Message, MessageType
from streaming.rtmp.server import RtmpServer, ServerLimits

from .harness import ALICE_KEY, BOB_KEY, TEST_LIMITS, Broadcasts, running_server
from .rawclient import RawPublisher


async def publishing(server, key) -> RawPublisher:
    client = await RawPublisher.open(server.port)
    await client.connect()
    status = await client.publish(key)
    assert status["code"] == messages.PUBLISH_START
    return client


def test_server_close_ends_every_live_session_once():
    broadcasts = Broadcasts()

    async def scenario():
        server = RtmpServer("127.0.0.1", 0, broadcasts.authorize, TEST_LIMITS)
        await server.start()
        alice = await publishing(server, ALICE_KEY)
        bob = await publishing(server, BOB_KEY)
        await alice.send_media(3)
        await bob.send_media(3)
        live = [await broadcasts.session_of("alice"), await broadcasts.session_of("bob")]
        assert {id(s) for s in server.sessions} == {id(s) for s in live}
        await server.close()
        return [await c.closed_by_server_within(1.0) for c in (alice, bob)], server

    closed, server = asyncio.run(scenario())
    assert closed == [True, True]
    assert server.connection_count == 0
    for name in ("alice", "bob"):
        assert broadcasts.sessions[name].close_reasons == ["server shutting down"]


def test_flv_arrives_in_order_with_the_header_first():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            alice = await publishing(server, ALICE_KEY)
            for index in range(5):
                await alice.send(Message(MessageType.VIDEO, index * 40, 1, bytes([index]) * 9, 6))
            await alice.command("deleteStream", 6, None, 1.0)
            await alice.closed_by_server_within(3.0)
            return broadcasts.sessions["alice"]

    session = asyncio.run(scenario())
    data = bytes(session.flv)
    assert data.startswith(b"FLV\x01")
    bodies = [data[13 + i * 24 + 11 : 13 + i * 24 + 20] for i in range(5)]
    assert bodies == [bytes([i]) * 9 for i in range(5)]
    assert session.close_reasons == ["publisher unpublished"]


def test_failing_session_closes_only_its_own_connection(rtmp_log):
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            alice = await publishing(server, ALICE_KEY)
            bob = await publishing(server, BOB_KEY)
            bob_session = broadcasts.sessions["bob"]

            async def broken_on_flv(data):
                raise RuntimeError(f"disk full while saving {BOB_KEY}")

            bob_session.on_flv = broken_on_flv
            await bob.send_media(1)
            bob_closed = await bob.closed_by_server_within(2.0)
            await alice.send_media(20)
            await broadcasts.session_of("alice")
            return bob_closed, server.connection_count

    bob_closed, still_connected = asyncio.run(scenario())
    assert bob_closed
    assert still_connected == 1
    assert broadcasts.sessions["bob"].close_reasons == ["internal error: RuntimeError"]
    assert broadcasts.sessions["alice"].flv.startswith(b"FLV")
    assert "disk full while saving <key " in rtmp_log.text
    assert len([r for r in rtmp_log.records if "internal error" in r.getMessage()]) == 1
    assert BOB_KEY not in rtmp_log.text


def test_authorize_failure_refuses_the_publish_without_logging_the_key(rtmp_log):
    async def broken_authorize(app, stream_key, peer):
        raise LookupError(f"database unreachable looking up {stream_key}")

    async def scenario():
        server = RtmpServer("127.0.0.1", 0, broken_authorize, TEST_LIMITS)
        async with server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            status = await client.publish(ALICE_KEY)
            return status, await client.closed_by_server_within(1.0)

    status, closed = asyncio.run(scenario())
    assert (status["level"], status["code"]) == ("error", messages.STREAM_FAILED)
    assert closed
    assert "internal error: LookupError" in rtmp_log.text
    assert ALICE_KEY not in rtmp_log.text


def test_rejection_code_and_description_reach_the_publisher():
    async def suspended(app, stream_key, peer):
        raise PublishRejected("NetStream.Publish.Denied", "This channel is suspended.")

    async def scenario():
        async with RtmpServer("127.0.0.1", 0, suspended, TEST_LIMITS) as server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            return await client.publish(ALICE_KEY)

    status = asyncio.run(scenario())
    assert status == {
        "level": "error",
        "code": "NetStream.Publish.Denied",
        "description": "This channel is suspended.",
    }


def test_slow_authorize_is_given_up_after_its_timeout():
    async def hanging(app, stream_key, peer):
        await asyncio.sleep(60)

    limits = ServerLimits(authorize_timeout=0.3)

    async def scenario():
        async with RtmpServer("127.0.0.1", 0, hanging, limits) as server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            return await client.publish(ALICE_KEY)

    assert asyncio.run(scenario())["code"] == messages.STREAM_FAILED


def test_connections_over_the_limit_are_refused(rtmp_log):
    broadcasts = Broadcasts()
    limits = ServerLimits(max_connections=2)

    async def scenario():
        async with running_server(broadcasts, limits) as server:
            alice = await publishing(server, ALICE_KEY)
            second = await RawPublisher.open(server.port)
            await second.handshake()
            third = await RawPublisher.open(server.port)
            third_closed = await third.closed_by_server_within(1.0)
            second_open = not await second.closed_by_server_within(0.3)
            await alice.send_media(2)
            await broadcasts.session_of("alice")
            return third_closed, second_open

    assert asyncio.run(scenario()) == (True, True)
    assert rtmp_log.text.count("connection limit reached") == 1


def test_session_can_drop_itself_from_on_flv():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            alice = await publishing(server, ALICE_KEY)
            session = broadcasts.sessions["alice"]

            async def drop_on_first_data(data):
                await server.drop(session, "moderator ended the stream")

            session.on_flv = drop_on_first_data
            await alice.send_media(1)
            return await alice.closed_by_server_within(2.0)

    assert asyncio.run(scenario())
    assert broadcasts.sessions["alice"].close_reasons == ["moderator ended the stream"]


def test_session_dropping_itself_from_on_close_does_not_hang():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            alice = await publishing(server, ALICE_KEY)
            session = broadcasts.sessions["alice"]
            recorded_on_close = session.on_close

            async def drop_again(reason):
                await server.drop(session, "dropped twice")
                await recorded_on_close(reason)

            session.on_close = drop_again
            alice.close()
            async with asyncio.timeout(3):
                await session.closed.wait()

    asyncio.run(scenario())
    (reason,) = broadcasts.sessions["alice"].close_reasons
    assert reason in ("publisher disconnected", "connection lost")


def test_concurrent_drops_close_the_session_once():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            await publishing(server, ALICE_KEY)
            session = broadcasts.sessions["alice"]
            return await asyncio.gather(
                server.drop(session, "first"), server.drop(session, "second")
            )

    assert asyncio.run(scenario()) == [True, True]
    assert broadcasts.sessions["alice"].close_reasons == ["first"]


def test_acknowledgements_follow_the_window_the_publisher_asked_for():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            alice = await publishing(server, ALICE_KEY)
            await alice.send(messages.window_ack_size(10_000))
            for _ in range(12):
                await alice.send_media(25)  # about 5 KB
                await asyncio.sleep(0.05)
            acknowledgements = await alice.receive(MessageType.ACKNOWLEDGEMENT, count=4)
            return [struct.unpack(">I", m.payload)[0] for m in acknowledgements]

    sequence_numbers = asyncio.run(scenario())
    assert sequence_numbers == sorted(sequence_numbers)
    gaps = [b - a for a, b in itertools.pairwise(sequence_numbers)]
    assert all(gap >= 10_000 for gap in gaps)


def test_ping_request_is_answered():
    async def scenario():
        async with running_server(Broadcasts()) as server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            ping = messages.user_control(
                messages.UserControlEvent.PING_REQUEST, b"\x00\x00\x30\x39"
            )
            await client.send(ping)
            (response,) = await client.receive(MessageType.USER_CONTROL)
            return response.payload

    assert asyncio.run(scenario()) == b"\x00\x07\x00\x00\x30\x39"


def test_play_is_refused_by_closing(rtmp_log):
    async def scenario():
        async with running_server(Broadcasts()) as server:
            client = await RawPublisher.open(server.port)
            await client.connect()
            await client.command("play", 5, None, ALICE_KEY, stream_id=1)
            return await client.closed_by_server_within(1.0)

    assert asyncio.run(scenario())
    assert "playback requested" in rtmp_log.text


def test_port_is_unknown_before_start():
    server = RtmpServer("127.0.0.1", 0, Broadcasts().authorize)
    with pytest.raises(RuntimeError):
        _ = server.port
