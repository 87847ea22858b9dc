"""Real broadcaster software publishing to the server: ffmpeg, rtmp2sink, rtmpsink (librtmp)."""

import asyncio

import pytest

from .harness import ALICE_KEY, BOB_KEY, CHARLIE_KEY, Broadcasts, decode_flv, running_server
from .publishers import ffmpeg_publish, gstreamer_publish, rtmp2sink, rtmpsink, run_client

pytestmark = pytest.mark.media

CLIENTS = {
    "ffmpeg": lambda url: ffmpeg_publish(url, seconds=3),
    "rtmp2sink": lambda url: gstreamer_publish(rtmp2sink(url), seconds=3),
    "rtmpsink": lambda url: gstreamer_publish(rtmpsink(url), seconds=3),
}


def publish_url(server, key):
    return f"rtmp://127.0.0.1:{server.port}/live/{key}"


def assert_three_seconds_of_360p(flv_bytes):
    decoded = decode_flv(flv_bytes)
    assert (decoded.width, decoded.height) == (640, 360)
    assert decoded.audio_packets > 100
    assert 2.7 <= decoded.video_seconds <= 3.3
    assert 2.5 <= decoded.audio_seconds <= 3.3


@pytest.mark.parametrize("client", CLIENTS)
def test_broadcaster_software_publish_arrives_as_decodable_flv(client, rtmp_log):
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            run = await run_client(CLIENTS[client](publish_url(server, ALICE_KEY)))
            session = broadcasts.sessions["alice"]
            async with asyncio.timeout(5):
                await session.closed.wait()
            return run, session, server.port

    run, session, _port = asyncio.run(scenario())
    assert run.returncode == 0, run.output
    assert_three_seconds_of_360p(session.flv)
    assert [(app, key) for app, key, _ in broadcasts.authorize_calls] == [("live", ALICE_KEY)]
    assert session.close_reasons == ["publisher unpublished"]
    assert ALICE_KEY not in rtmp_log.text


def test_query_string_after_the_key_is_not_part_of_it():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            url = publish_url(server, f"{ALICE_KEY}?bitrate=2500&lang=en")
            return await run_client(ffmpeg_publish(url, seconds=1, size="160x120"))

    run = asyncio.run(scenario())
    assert run.returncode == 0, run.output
    assert broadcasts.authorize_calls[0][1] == ALICE_KEY
    assert broadcasts.sessions["alice"].close_reasons == ["publisher unpublished"]


@pytest.mark.parametrize("client", CLIENTS)
def test_unknown_stream_key_is_refused_and_the_client_gives_up(client, rtmp_log):
    broadcasts = Broadcasts()
    stolen_key = "not-a-key-of-anyone-93b1"

    async def scenario():
        async with running_server(broadcasts) as server:
            return await run_client(CLIENTS[client](publish_url(server, stolen_key)), timeout=15)

    run = asyncio.run(scenario())
    assert run.returncode != 0
    assert [(app, key) for app, key, _ in broadcasts.authorize_calls] == [("live", stolen_key)]
    assert broadcasts.sessions == {}
    assert "publish refused: NetStream.Publish.BadName" in rtmp_log.text
    assert stolen_key not in rtmp_log.text


def test_ffmpeg_shows_the_refusal_reason():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            return await run_client(ffmpeg_publish(publish_url(server, "wrong-key"), seconds=1))

    run = asyncio.run(scenario())
    assert "Unknown stream key." in run.output


def test_rotated_key_drops_live_connection(rtmp_log):
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            url = publish_url(server, ALICE_KEY)
            ffmpeg = asyncio.create_task(run_client(ffmpeg_publish(url, seconds=20)))
            session = await broadcasts.session_of("alice")
            dropped = await server.drop(session, "stream key rotated")
            loop = asyncio.get_running_loop()
            started = loop.time()
            run = await ffmpeg
            return dropped, run, loop.time() - started, session

    dropped, run, exit_delay, session = asyncio.run(scenario())
    assert dropped is True
    assert run.returncode != 0
    assert exit_delay < 5.0
    assert session.close_reasons == ["stream key rotated"]
    assert "closed: stream key rotated" in rtmp_log.text
    assert ALICE_KEY not in rtmp_log.text


def test_dropping_a_session_that_is_not_live_does_nothing():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            return await server.drop(object())

    assert asyncio.run(scenario()) is False


def test_three_broadcasters_publish_at_once_on_one_port():
    broadcasts = Broadcasts()

    async def scenario():
        async with running_server(broadcasts) as server:
            runs = await asyncio.gather(
                run_client(ffmpeg_publish(publish_url(server, ALICE_KEY), seconds=3)),
                run_client(gstreamer_publish(rtmp2sink(publish_url(server, BOB_KEY)))),
                run_client(gstreamer_publish(rtmpsink(publish_url(server, CHARLIE_KEY)))),
            )
            async with asyncio.timeout(5):
                for session in broadcasts.sessions.values():
                    await session.closed.wait()
            return runs

    runs = asyncio.run(scenario())
    assert [run.returncode for run in runs] == [0, 0, 0], [run.output for run in runs]
    assert set(broadcasts.sessions) == {"alice", "bob", "charlie"}
    for session in broadcasts.sessions.values():
        assert_three_seconds_of_360p(session.flv)
        assert len(session.close_reasons) == 1
