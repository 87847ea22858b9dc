"""A WHIP publisher that sends garbage RTP: the ingest drops or ignores it, and another
room publishing from the same ingest at the same time keeps going.

The garbage is what a buggy or hostile encoder could send once ICE and DTLS are up:
random payloads on the negotiated SSRCs and payload types (encrypted with the session's
own SRTP keys, so they reach the depacketizer, the muxer and the transcoder), malformed
RTP and RTCP (truncated headers, overflowing CSRC counts, extensions and padding), and
unencrypted bytes on the ICE path.
"""

import asyncio
import contextlib
import random
import struct

import pytest
from aiortc.rtp import RtpPacket

from accounts import services as accounts
from rooms import services
from rooms.models import Room
from streaming.tests.live_ingest import serve_process, wait_for
from streaming.tests.whip_client import WhipPublisher

pytestmark = [pytest.mark.media, pytest.mark.django_db(transaction=True)]

GARBAGE_SECONDS = 6


def room_status(room) -> str:
    return Room.objects.values_list("status", flat=True).get(pk=room.pk)


def malformed_packets(rng: random.Random, payload_type: int, ssrc: int) -> list[bytes]:
    header = struct.pack("!HII", rng.randrange(65536), rng.randrange(2**32), ssrc)
    return [
        bytes([0x80, payload_type]),  # shorter than the 12-byte header
        bytes([0x8F, payload_type]) + header + b"\x00" * 4,  # 15 CSRCs announced, 1 sent
        bytes([0x90, payload_type]) + header + b"\xbe\xde\xff\xff",  # extension runs off the end
        bytes([0xA0, payload_type]) + header + rng.randbytes(20) + b"\xff",  # padding > payload
        bytes([0x80 | rng.randrange(64), rng.randrange(256)]) + rng.randbytes(rng.randrange(40)),
        bytes([0x80, rng.choice([200, 201, 202, 203, 205, 206])]) + rng.randbytes(30),  # RTCP
        rng.randbytes(rng.randrange(1, 1300)),
    ]


async def send_garbage(pc, seconds: float, seed: int = 15) -> int:
    """Spray garbage from an aiortc peer that has connected; the packets sent."""
    rng = random.Random(seed)
    targets = [(t.sender._ssrc, t._codecs[0].payloadType) for t in pc.getTransceivers()]
    dtls = pc.getTransceivers()[0].sender.transport
    loop = asyncio.get_running_loop()
    deadline, sent = loop.time() + seconds, 0
    sequence = rng.randrange(65536)
    while loop.time() < deadline:
        for ssrc, payload_type in targets:
            # Sequence numbers leap ahead: libsrtp protects nothing older than it has sent.
            sequence = (sequence + rng.randrange(1, 300)) % 65536
            packet = RtpPacket(payload_type=payload_type, marker=rng.random() < 0.3,
                               sequence_number=sequence,
                               timestamp=rng.randrange(2**32), ssrc=ssrc,
                               payload=rng.randbytes(rng.randrange(1, 1200)))  # fmt: skip
            try:
                await dtls._send_rtp(packet.serialize())
                sent += 1
            except Exception:  # noqa: S112 - our own SRTP sender's replay window
                continue
            for data in malformed_packets(rng, payload_type, ssrc):
                # Under the session's SRTP key (libsrtp refuses to protect some of them).
                with contextlib.suppress(Exception):
                    await dtls._send_rtp(data)
                await dtls.transport._send(data)  # as it is, unencrypted
        await asyncio.sleep(0.002)
    return sent


def test_garbage_rtp_is_dropped_and_another_room_keeps_streaming(tmp_path, alice, alice_room, bob):
    alice_key = services.rotate_stream_key(alice_room, alice)
    accounts.enable_broadcasting(bob)
    bob_room = services.create_room(bob, "Bob's Room")
    bob_key = services.rotate_stream_key(bob_room, bob)
    with serve_process(tmp_path) as site:
        bob_segments = site.hls_root / bob_room.slug / "source"
        good = WhipPublisher(site.web_url + "/whip/", bob_key)
        bad = WhipPublisher(site.web_url + "/whip/", alice_key)
        try:
            assert good.start().status == 201
            assert bad.start().status == 201
            wait_for(lambda: good.connection_state == "connected", timeout=15)
            wait_for(lambda: bad.connection_state == "connected", timeout=15)
            wait_for(lambda: room_status(alice_room) == "live", timeout=15)
            wait_for(lambda: len(list(bob_segments.glob("seg_*"))) >= 1, timeout=30)

            before = len(list(bob_segments.glob("seg_*")))
            sent = bad._run(send_garbage(bad.pc, GARBAGE_SECONDS), timeout=GARBAGE_SECONDS + 30)
            assert sent > 100
            # Bob's stream went on through the garbage, and goes on after it.
            during = len(list(bob_segments.glob("seg_*")))
            assert during >= before + 1, (before, during)
            wait_for(lambda: len(list(bob_segments.glob("seg_*"))) >= during + 2, timeout=20)
            assert good.connection_state == "connected"
            assert room_status(bob_room) == "live"
            assert site.process.poll() is None

            # Alice's session was dropped, or it ignored the garbage; either way her room
            # is not wedged: once she goes (DELETE or dropped), she can go live again.
            if bad.connection_state == "connected":
                bad.delete(site.web_url)
            wait_for(lambda: room_status(alice_room) == "ended", timeout=30)
        finally:
            bad.close()
        again = WhipPublisher(site.web_url + "/whip/", alice_key)
        try:
            assert again.start().status == 201
            wait_for(lambda: room_status(alice_room) == "live", timeout=20)
        finally:
            again.close()
            good.close()
    assert "Traceback" not in site.log_text()
