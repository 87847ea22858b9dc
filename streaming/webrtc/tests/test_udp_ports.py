"""WEBRTC_UDP_PORTS: every host candidate of the process's peers binds in the range."""

import asyncio
import socket

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from streaming.tests import whip_client
from streaming.webrtc.network import IceSettings
from streaming.webrtc.udp_ports import restrict_udp_ports

RANGE = (22100, 22139)  # inside the port range these tests may use


@pytest.fixture
def ports_in_range():
    restrict_udp_ports(RANGE)
    yield range(RANGE[0], RANGE[1] + 1)
    restrict_udp_ports(None)


def candidates(sdp: str) -> list[tuple[str, int]]:
    lines = [line.split() for line in sdp.splitlines() if line.startswith("a=candidate:")]
    return [(words[4], int(words[5])) for words in lines]


def candidate_ports(sdp: str) -> list[int]:
    return [port for _, port in candidates(sdp)]


async def connect(sender: RTCPeerConnection, receiver: RTCPeerConnection) -> tuple[str, str]:
    sender.addTransceiver(whip_client.TestPatternTrack(), direction="sendonly")
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return sender.localDescription.sdp, receiver.localDescription.sdp


async def wait_connected(*peers, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while any(peer.connectionState != "connected" for peer in peers):
        assert asyncio.get_running_loop().time() < deadline, [p.connectionState for p in peers]
        await asyncio.sleep(0.05)


async def test_every_local_candidate_lies_in_the_range_and_peers_connect(ports_in_range):
    peers = [RTCPeerConnection(IceSettings().configuration()) for _ in range(4)]
    try:
        offers_and_answers = [await connect(peers[0], peers[1]), await connect(peers[2], peers[3])]
        await wait_connected(*peers)
    finally:
        for peer in peers:
            await peer.close()
    bound = [found for pair in offers_and_answers for sdp in pair for found in candidates(sdp)]
    assert len(bound) >= 4
    assert all(port in ports_in_range for _, port in bound), bound
    assert len(set(bound)) == len(bound)  # one socket each


async def test_a_full_range_leaves_a_peer_without_host_candidates_not_broken():
    # Another program holds the range's one port on every address, IPv4 and IPv6.
    taken = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    taken.bind(("::", RANGE[0]))
    restrict_udp_ports((RANGE[0], RANGE[0]))
    peer = RTCPeerConnection(IceSettings().configuration())
    try:
        peer.addTransceiver("video", direction="recvonly")
        await peer.setLocalDescription(await peer.createOffer())
        # The address yields no host candidate, as when aioice cannot bind at all.
        assert candidate_ports(peer.localDescription.sdp) == []
    finally:
        restrict_udp_ports(None)
        await peer.close()
        taken.close()


async def test_without_a_range_the_kernel_picks_the_port():
    peer = RTCPeerConnection(IceSettings().configuration())
    try:
        peer.addTransceiver("video", direction="recvonly")
        await peer.setLocalDescription(await peer.createOffer())
        ports = candidate_ports(peer.localDescription.sdp)
    finally:
        await peer.close()
    assert ports and all(port >= 32768 for port in ports)


async def test_an_answer_from_the_ingest_peer_uses_the_range(ports_in_range):
    from streaming.webrtc.publisher import WhipPeer

    async def ignore(_):
        return None

    client = RTCPeerConnection(IceSettings().configuration())
    client.addTransceiver(whip_client.TestPatternTrack(), direction="sendonly")
    await client.setLocalDescription(await client.createOffer())
    peer = WhipPeer(IceSettings(), on_media=ignore, on_end=ignore)
    try:
        answer = await peer.answer(client.localDescription.sdp)
        await client.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await wait_connected(client)
    finally:
        await peer.close("test over")
        await client.close()
    assert candidate_ports(answer) and all(p in ports_in_range for p in candidate_ports(answer))
