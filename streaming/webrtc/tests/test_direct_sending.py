"""A room's forwarded frames reach each viewer straight from the relay (direct_sending.py).

Real aiortc peers over this machine's loopback: the viewer's side records every RTP
packet it decrypts, so each test sees what a viewer's browser would be handed.
"""

import asyncio
import contextlib

import pytest
from aioice.turn import TurnTransport
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.codecs.h264 import H264Encoder
from aiortc.rtp import RtpPacket

from streaming.webrtc import direct_sending, udp_batching
from streaming.webrtc.relay import EncodedRelay
from streaming.webrtc.tests.test_matroska import encoded_video
from streaming.webrtc.tests.test_shared_packing import packet_of

pytestmark = pytest.mark.media


class Viewer:
    """A real-time viewer: a receiving peer that records the RTP packets it decrypts."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.packets: list[RtpPacket] = []
        self.arrived = asyncio.Event()

    async def _on_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        self.packets.append(RtpPacket.parse(data))
        self.arrived.set()

    async def wait_for_packets(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.packets) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def media(self, payload_type: int) -> list[RtpPacket]:
        return [p for p in self.packets if p.payload_type == payload_type]


async def connect(relay: EncodedRelay, while_connecting=()) -> tuple[Viewer, RTCPeerConnection]:
    """A viewer of `relay`; `while_connecting`: frames pushed before its sender starts."""
    viewer, server = await negotiate(relay)
    push(relay, while_connecting)
    async with asyncio.timeout(10):
        while server.connectionState != "connected" or not _sending(server):
            await asyncio.sleep(0.02)
    return viewer, server


async def negotiate(relay: EncodedRelay) -> tuple[Viewer, RTCPeerConnection]:
    viewer = Viewer()
    viewer.pc.addTransceiver("video", direction="recvonly")
    server = RTCPeerConnection()
    transceiver = server.addTransceiver(relay.subscribe("video"), direction="sendonly")
    transceiver.setCodecPreferences([
        c for c in RTCRtpSender.getCapabilities("video").codecs
        if c.mimeType.lower() in ("video/h264", "video/rtx")
    ])  # fmt: skip
    await viewer.pc.setLocalDescription(await viewer.pc.createOffer())
    await server.setRemoteDescription(viewer.pc.localDescription)
    await server.setLocalDescription(await server.createAnswer())
    await viewer.pc.setRemoteDescription(server.localDescription)
    assert not _sending(server)
    for receiving in viewer.pc.getTransceivers():
        receiving.receiver.transport._handle_rtp_data = viewer._on_rtp
    return viewer, server


def _sending(server: RTCPeerConnection) -> bool:
    return any(track._direct is not None for track in _tracks(server))


def _tracks(server: RTCPeerConnection):
    return [s.track for s in server.getSenders() if s.track is not None]


@contextlib.asynccontextmanager
async def viewers_of(relay: EncodedRelay, count: int):
    pairs = [await connect(relay) for _ in range(count)]
    try:
        yield pairs
    finally:
        for viewer, server in pairs:
            await server.close()
            await viewer.pc.close()


def push(relay: EncodedRelay, frames) -> None:
    for frame in frames:
        relay.push(frame)


def payloads_of(frames) -> list[tuple[list[bytes], int]]:
    return [H264Encoder().pack(packet_of(f.data, f.timestamp, 90000)) for f in frames]


async def test_every_viewer_gets_each_frames_packets_in_order_with_its_own_numbers():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    frames = encoded_video("h264", 10)  # a keyframe, then nine others
    async with viewers_of(relay, 3) as pairs:
        push(relay, frames)
        expected = payloads_of(frames)
        count = sum(len(payloads) for payloads, _ in expected)
        for viewer, server in pairs:
            await viewer.wait_for_packets(count)
            media = viewer.packets
            assert len(media) == count
            assert [p.payload for p in media] == [x for p, _ in expected for x in p]
            sequence = [p.sequence_number for p in media]
            assert sequence == [(sequence[0] + i) & 0xFFFF for i in range(count)]
            # The marker ends each frame; timestamps follow the frames' own, 3,000 apart.
            ends = [i for i, p in enumerate(media) if p.marker]
            assert len(ends) == len(frames) and ends[-1] == count - 1
            stamps = [media[i].timestamp for i in ends]
            assert [(s - stamps[0]) & 0xFFFFFFFF for s in stamps] == [
                f.timestamp - frames[0].timestamp for f in frames
            ]
            assert len({p.ssrc for p in media}) == 1
            # The sender's RTCP reports and stats count what it sent.
            stats = await server.getSenders()[0].getStats()
            outbound = next(s for s in stats.values() if s.type == "outbound-rtp")
            assert outbound.packetsSent == count
            assert outbound.bytesSent == sum(len(p.payload) for p in media)
        assert len({pair[0].packets[0].ssrc for pair in pairs}) == 3


async def test_a_packet_a_viewer_reports_lost_is_sent_again_over_rtx():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    frames = encoded_video("h264", 3)
    async with viewers_of(relay, 1) as [(viewer, server)]:
        push(relay, frames)
        count = sum(len(p) for p, _ in payloads_of(frames))
        await viewer.wait_for_packets(count)
        lost = viewer.packets[count // 2]
        await server.getSenders()[0]._retransmit(lost.sequence_number)
        await viewer.wait_for_packets(count + 1)
        again = viewer.packets[-1]
        assert again.payload_type != lost.payload_type  # RTX's own payload type
        assert again.payload == lost.sequence_number.to_bytes(2, "big") + lost.payload
        assert again.timestamp == lost.timestamp and again.marker == lost.marker


async def test_a_viewer_whose_socket_is_backed_up_skips_to_the_next_keyframe(monkeypatch):
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    asked = []
    relay.request_keyframe = lambda: asked.append(1)
    frames = encoded_video("h264", 40)  # keyframes at 0 and 30 (one a second)
    assert frames[30].data != frames[0].data
    async with viewers_of(relay, 1) as [(viewer, _server)]:
        push(relay, frames[:5])
        sent = sum(len(p) for p, _ in payloads_of(frames[:5]))
        await viewer.wait_for_packets(sent)
        asked.clear()
        monkeypatch.setattr(direct_sending, "MAX_BACKLOG_BYTES", -1)
        push(relay, frames[5:6])
        assert asked == [1]
        monkeypatch.setattr(direct_sending, "MAX_BACKLOG_BYTES", 1 << 20)
        push(relay, frames[6:30])  # not keyframes: still skipped
        push(relay, frames[30:32])
        resumed = sum(len(p) for p, _ in payloads_of(frames[30:32]))
        await viewer.wait_for_packets(sent + resumed)
        await asyncio.sleep(0.1)
        assert len(viewer.packets) == sent + resumed
        first_after = viewer.packets[sent]
        assert first_after.payload == payloads_of(frames[30:31])[0][0][0]
        # Its numbers go on where they stopped: a skip is not a loss to repair.
        assert (
            first_after.sequence_number == (viewer.packets[sent - 1].sequence_number + 1) & 0xFFFF
        )


async def test_one_viewer_failing_leaves_the_others_watching():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    frames = encoded_video("h264", 4)
    async with viewers_of(relay, 2) as [(broken, broken_server), (viewer, _server)]:
        dtls = broken_server.getSenders()[0].transport

        def failing(data):
            raise RuntimeError("SRTP failed")

        dtls._tx_srtp.protect = failing
        push(relay, frames)
        await viewer.wait_for_packets(sum(len(p) for p, _ in payloads_of(frames)))
        async with asyncio.timeout(2):
            while relay.tracks != {t for t in _tracks(_server)}:
                await asyncio.sleep(0.01)
        assert broken.packets == []


async def test_closing_a_viewer_ends_its_sender_and_takes_it_off_the_relay():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    async with viewers_of(relay, 1) as [(_viewer, server)]:
        assert len(relay.tracks) == 1
        await server.close()
        assert relay.tracks == set()
        push(relay, encoded_video("h264", 2))  # nobody to send to: nothing fails


async def test_a_viewer_starts_at_the_newest_keyframe_sent_while_it_connected():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    frames = encoded_video("h264", 40)  # keyframes at 0 and 30
    viewer, server = await connect(relay, while_connecting=frames[:35])
    try:
        push(relay, frames[35:])
        expected = [x for payloads, _ in payloads_of(frames[30:]) for x in payloads]
        await viewer.wait_for_packets(len(expected))
        await asyncio.sleep(0.1)
        assert [p.payload for p in viewer.packets] == expected
    finally:
        await server.close()
        await viewer.pc.close()


async def test_a_viewers_lost_picture_asks_the_publisher_for_a_keyframe_once_a_second():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    frames = encoded_video("h264", 2)
    async with viewers_of(relay, 1) as [(viewer, _server)]:
        asked = []
        relay.request_keyframe = lambda: asked.append(1)
        push(relay, frames)
        await viewer.wait_for_packets(1)
        receiver = viewer.pc.getReceivers()[0]
        for _ in range(3):  # a PLI (RFC 4585) over the peers' real RTCP
            await receiver._send_rtcp_pli(viewer.packets[0].ssrc)
        async with asyncio.timeout(2):
            while not asked:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert asked == [1]


async def test_a_viewer_reached_through_a_turn_relay_gets_its_frames():
    # The nominated pair on the ingest's relayed candidate sends through aioice's
    # TurnTransport: no socket, no write buffer; it wraps each datagram for the TURN
    # server. This one hands them to the pair's real socket instead of a TURN server
    # (streaming/tests/test_whip_turn.py runs coturn for a publisher).
    class Relayed(TurnTransport):
        def __init__(self, real) -> None:
            self.real = real
            self.sent = 0

        def sendto(self, data, addr) -> None:
            self.sent += 1
            self.real.sendto(data, addr)

    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    frames = encoded_video("h264", 5)
    async with viewers_of(relay, 1) as [(viewer, server)]:
        pair = server.getSenders()[0].transport.transport._connection._nominated[1]
        real = pair.protocol.transport
        udp_batching._pending.pop(pair.protocol, None)  # what it knew of the real socket
        pair.protocol.transport = relayed = Relayed(real)
        try:
            push(relay, frames)
            count = sum(len(p) for p, _ in payloads_of(frames))
            await viewer.wait_for_packets(count)
            assert relayed.sent == count
        finally:
            udp_batching._pending.pop(pair.protocol, None)
            pair.protocol.transport = real


async def test_a_viewer_whose_room_ended_while_it_connected_ends_its_sender():
    relay = EncodedRelay()
    relay.codecs["video"] = "h264"
    viewer, server = await negotiate(relay)
    try:
        relay.close()  # the publisher left (WhepViewers.source_ended)
        sender = server.getSenders()[0]
        async with asyncio.timeout(10):
            while server.connectionState != "connected":
                await asyncio.sleep(0.02)
            await sender._RTCRtpSender__rtp_exited.wait()
        assert relay.tracks == set()
    finally:
        await server.close()
        await viewer.pc.close()
