"""Hostile or broken clients: each is cut within bounded time, and a live broadcast beside
it (alice, publishing with ffmpeg) carries on untouched."""

import asyncio
import os
import struct

import pytest

from streaming.rtmp import messages
from streaming.rtmp.messages import Message, MessageType

from .harness import ALICE_KEY, BOB_KEY, TEST_LIMITS, Broadcasts, decode_flv, running_server
from .publishers import ffmpeg_publish, run_client
from .rawclient import RawPublisher

pytestmark = pytest.mark.media

ALICE_SECONDS = 4


def beside_live_broadcast(hostile, limits=TEST_LIMITS):
    """Run `hostile(server, broadcasts)` while alice publishes; check alice was unharmed."""
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts, limits) as server:
            url = f"rtmp://127.0.0.1:{server.port}/live/{ALICE_KEY}"
            alice = asyncio.create_task(
                run_client(ffmpeg_publish(url, seconds=ALICE_SECONDS, size="160x120"))
            )
            await broadcasts.session_of("alice")
            outcome = await hostile(server, broadcasts)
            run = await alice
            async with asyncio.timeout(5):
                await broadcasts.sessions["alice"].closed.wait()
            return outcome, run

    outcome, run = asyncio.run(scenario())
    alice = broadcasts.sessions["alice"]
    assert run.returncode == 0, run.output
    assert alice.close_reasons == ["publisher unpublished"]
    decoded = decode_flv(alice.flv)
    assert (decoded.width, decoded.height) == (160, 120)
    assert decoded.video_seconds >= ALICE_SECONDS - 0.5
    return outcome, broadcasts


async def closed_within(client: RawPublisher, seconds: float) -> bool:
    try:
        return await client.closed_by_server_within(seconds)
    finally:
        client.close()


def test_garbage_instead_of_a_handshake_is_cut_at_once(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.send_raw(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        return await closed_within(client, 1.0)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert "unsupported RTMP version 71" in rtmp_log.text


def test_random_bytes_after_a_valid_version_byte_are_cut(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.send_raw(b"\x03" + os.urandom(3072 + 20000))
        return await closed_within(client, TEST_LIMITS.idle_timeout + 1)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert "protocol error" in rtmp_log.text


def test_truncated_handshake_is_cut_at_the_handshake_timeout(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.send_raw(b"\x03" + bytes(700))
        return await closed_within(client, TEST_LIMITS.handshake_timeout + 1)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert "handshake not finished within 1 s" in rtmp_log.text


def test_client_that_connects_and_sends_nothing_is_cut(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        return await closed_within(client, TEST_LIMITS.handshake_timeout + 1)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert rtmp_log.text.count("handshake not finished") == 1


def test_client_silent_after_the_handshake_is_cut_at_the_idle_timeout(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.handshake()
        return await closed_within(client, TEST_LIMITS.idle_timeout + 1)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert "no data for 2 s" in rtmp_log.text


def test_client_that_keeps_talking_but_never_publishes_is_cut(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        ping = messages.user_control(messages.UserControlEvent.PING_REQUEST, bytes(4))
        try:
            async with asyncio.timeout(TEST_LIMITS.publish_timeout + 1):
                while True:
                    await client.send(ping)
                    await asyncio.sleep(0.2)
        except (ConnectionError, TimeoutError) as error:
            return type(error)
        finally:
            client.close()

    outcome, _ = beside_live_broadcast(hostile)
    assert issubclass(outcome, ConnectionError)
    assert "no publish within 4 s" in rtmp_log.text


@pytest.mark.parametrize("size", [0, 2**31])
def test_absurd_chunk_size_is_refused(size, rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        await client.send(Message(MessageType.SET_CHUNK_SIZE, 0, 0, struct.pack(">I", size), 2))
        return await closed_within(client, 1.0)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert f"chunk size {size} is outside 128..65536" in rtmp_log.text


def test_absurd_message_length_is_refused_before_its_body(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        # A 16 MiB video message header, and not one byte of its body.
        await client.send_raw(b"\x06" + bytes(3) + b"\xff\xff\xff\x09" + struct.pack("<I", 1))
        return await closed_within(client, 1.0)

    closed, _ = beside_live_broadcast(hostile)
    assert closed
    assert "message of 16777215 bytes exceeds the 65536-byte limit" in rtmp_log.text


def test_unknown_message_types_are_ignored(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        for type_id in (7, 10, 16, 19, 22, 99, 255):
            await client.send(Message(type_id, 0, 0, b"\x00\x01\x02 whatever", 7))
        status = await client.publish(BOB_KEY)
        await client.send_media(10)
        bob = await broadcasts.session_of("bob")
        client.close()
        return status["code"], bob

    (code, bob), _ = beside_live_broadcast(hostile)
    assert code == messages.PUBLISH_START
    assert bob.flv.startswith(b"FLV")


@pytest.mark.parametrize(
    "publish_name",
    [pytest.param("", id="empty"), pytest.param("?only=query", id="only a query string")],
)
def test_publish_without_a_key_is_refused_without_asking_the_application(publish_name):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        status = await client.publish(publish_name)
        return status, await closed_within(client, 1.0)

    (status, closed), broadcasts = beside_live_broadcast(hostile)
    assert status["level"] == "error"
    assert status["code"] == messages.PUBLISH_BAD_NAME
    assert closed
    assert [key for _, key, _ in broadcasts.authorize_calls] == [ALICE_KEY]


def test_very_long_key_is_refused_without_asking_the_application(rtmp_log):
    long_key = "k" * 10_000

    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        status = await client.publish(long_key)
        return status, await closed_within(client, 1.0)

    (status, closed), broadcasts = beside_live_broadcast(hostile)
    assert status["code"] == messages.PUBLISH_BAD_NAME
    assert closed
    assert [key for _, key, _ in broadcasts.authorize_calls] == [ALICE_KEY]
    assert long_key[:300] not in rtmp_log.text


def test_publish_before_connect_is_a_protocol_error(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.handshake()
        await client.command("publish", 5, None, BOB_KEY, "live", stream_id=1)
        return await closed_within(client, 1.0)

    closed, broadcasts = beside_live_broadcast(hostile)
    assert closed
    assert "command before connect" in rtmp_log.text
    assert "bob" not in broadcasts.sessions


def test_key_never_appears_in_the_logs_when_a_publisher_misbehaves(rtmp_log):
    async def hostile(server, broadcasts):
        client = await RawPublisher.open(server.port)
        await client.connect()
        await client.publish(f"{BOB_KEY}?token=x")
        await client.send_raw(b"\x06" + bytes(3) + b"\xff\xff\xff\x09" + bytes(4))
        return await closed_within(client, 1.0)

    closed, broadcasts = beside_live_broadcast(hostile)
    assert closed
    assert broadcasts.sessions["bob"].close_reasons[0].startswith("protocol error")
    bob_lines = [r.getMessage() for r in rtmp_log.records if "exceeds" in r.getMessage()]
    assert len(bob_lines) == 1
    assert "app='live' key=" in bob_lines[0]
    assert BOB_KEY not in rtmp_log.text
    assert ALICE_KEY not in rtmp_log.text
