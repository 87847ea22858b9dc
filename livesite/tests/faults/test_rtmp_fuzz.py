"""RTMP fuzzing: 100,000 mutated inputs to the parsers, then mutated sessions on a real ingest.

In-process, the seeded fuzzer (rtmp_fuzz.py) feeds 100,000 mutated handshakes, chunk
streams and AMF0 values to the parsers a connection uses; each must end in success or
`ProtocolError`. Over real sockets, a few hundred mutated sessions hit a running
`manage.py ingest` while ffmpeg publishes a healthy stream to another room: the ingest
must close each bad connection by itself (never an "internal error") and the healthy
stream must keep going to its end.
"""

import asyncio
import contextlib
import os
import random
import time

import pytest

from accounts import services as accounts
from rooms import services as rooms
from rooms.models import Room
from streaming.rtmp import messages
from streaming.rtmp.chunks import ChunkEncoder
from streaming.rtmp.messages import MessageType
from streaming.rtmp.tests.rawclient import RawPublisher
from streaming.tests.live_ingest import ffmpeg_publish, ingest_process, wait_for

from . import rtmp_fuzz

pytestmark = [pytest.mark.faults]

IN_PROCESS_CASES = 100_000
SOCKET_CASES = 3000  # mutated recordings with an unknown key, refused at the latest at publish
PUBLISHING_CASES = 12  # sessions that publish with a valid key, then send mutated media
SEED = int(os.environ.get("LIVESITE_FUZZ_SEED", "20261203"))


def test_100k_mutated_inputs_only_ever_raise_protocol_error():
    report = rtmp_fuzz.run(SEED, IN_PROCESS_CASES)
    print(
        f"{report.cases} cases in {report.seconds:.1f} s, {report.refused} refused,"
        f" {dict(report.by_target)}"
    )
    assert report.crashes == []
    assert report.cases == IN_PROCESS_CASES


MEDIA = [m for m in rtmp_fuzz._SEED_MESSAGES if m.type_id in (8, 9, MessageType.DATA_AMF0)]


async def refused_session(port: int, rng: random.Random) -> None:
    """The whole recorded publish (handshake included), mutated, then our side closed."""
    data = rtmp_fuzz.mutate(rng, rtmp_fuzz.CAPTURE[: rng.randint(64, 20_000)], rng.randint(1, 6))
    client = await RawPublisher.open(port)
    try:
        with contextlib.suppress(ConnectionError):
            await client.send_raw(data)
            client.writer.write_eof()
        assert await client.closed_by_server_within(15), "the ingest left a bad session open"
    finally:
        client.close()


async def publishing_session(port: int, key: str, rng: random.Random) -> None:
    """A valid publish, then mutated media chunks."""
    client = await RawPublisher.open(port)
    try:
        await client.connect()
        status = await client.publish(key)
        assert status["code"] == "NetStream.Publish.Start", status
        await client.send(messages.set_chunk_size(4096))
        encoder = ChunkEncoder(4096)
        media = b"".join(encoder.encode(m) for m in MEDIA[: rng.randint(5, 60)])
        with contextlib.suppress(ConnectionError):
            await client.send_raw(rtmp_fuzz.mutate(rng, media, rng.randint(1, 8)))
            client.writer.write_eof()
        assert await client.closed_by_server_within(15), "the ingest left a bad session open"
    finally:
        client.close()


@pytest.mark.media
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_mutated_sessions_leave_the_ingest_and_a_healthy_stream_unharmed(
    shared_services, tmp_path, alice, alice_room
):
    healthy_key = rooms.rotate_stream_key(alice_room, alice)
    target = accounts.enable_broadcasting(
        accounts.sign_up("target", "target@example.com", "correct horse 123")
    )
    target_room = rooms.create_room(target, "Fuzz target")
    target_key = rooms.rotate_stream_key(target_room, target)

    async def fuzz(port: int) -> None:
        rng = random.Random(SEED)
        pending = [refused_session(port, random.Random(rng.random())) for _ in range(SOCKET_CASES)]
        # Five at a time: with the healthy publisher, under the ingest's per-address cap.
        for start in range(0, len(pending), 5):
            await asyncio.gather(*pending[start : start + 5])
        for _ in range(PUBLISHING_CASES):
            await publishing_session(port, target_key, random.Random(rng.random()))

    env = {"INGEST_RECONNECT_GRACE": "0", "INGEST_LOCK_TTL": "5"}
    with ingest_process(tmp_path, env) as ingest:
        publisher = ffmpeg_publish(ingest.url(healthy_key), seconds=16)
        try:
            wait_for(lambda: status_of(alice_room) == "live", timeout=20)
            started = time.monotonic()
            asyncio.run(fuzz(ingest.port))
            fuzz_seconds = time.monotonic() - started
            assert ingest.process.poll() is None  # the ingest is still running
            assert status_of(alice_room) == "live"  # the healthy stream never dropped
            segments_before = segment_count(ingest.hls_root / alice_room.slug)
            time.sleep(2.5)  # more than a segment's length: the stream must still grow
            assert segment_count(ingest.hls_root / alice_room.slug) > segments_before
            assert publisher.wait(timeout=60) == 0, publisher.stderr.read()
        finally:
            if publisher.poll() is None:
                publisher.kill()
                publisher.wait()
        log = ingest.log_text()
    print(f"{SOCKET_CASES + PUBLISHING_CASES} sessions in {fuzz_seconds:.1f} s")
    assert "internal error" not in log
    assert "Traceback" not in log


def status_of(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


def segment_count(folder) -> int:
    return sum(1 for _ in folder.rglob("*.ts")) + sum(1 for _ in folder.rglob("*.m4s"))
