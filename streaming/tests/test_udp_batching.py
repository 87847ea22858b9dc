"""A frame's datagrams sent in one system call arrive as the same datagrams, in order.

Real sockets on the loopback interface, whose kernel segments them (UDP GSO); only the
test of a kernel without GSO replaces `sendmsg`, since this one has it.
"""

import asyncio
import socket

import pytest
from aioice import ice as aioice_ice

from streaming.webrtc import relay, udp_batching  # noqa: F401  (relay installs the batching)


class _Protocol(aioice_ice.StunProtocol):
    def __init__(self) -> None:
        super().__init__(receiver=None)


async def _sender():
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(_Protocol, local_addr=("127.0.0.1", 0))
    return protocol


def _receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    return sock


def _received(sock: socket.socket, count: int) -> list[bytes]:
    return [sock.recv(65536) for _ in range(count)]


async def _send_frame(protocol, datagrams, addr) -> None:
    for datagram in datagrams:  # as aiortc's sender does: no turn of the loop between them
        await protocol.send_data(datagram, addr)
    await asyncio.sleep(0)  # the loop's next turn sends them
    await asyncio.sleep(0)


def _frame(sizes: list[int]) -> list[bytes]:
    return [bytes([index]) * size for index, size in enumerate(sizes)]


@pytest.mark.parametrize(
    "sizes",
    [
        [1210] * 8 + [400],  # equal fragments and a shorter last one
        [1211, 1211, 1211, 1210, 1210, 1210, 1210],  # aiortc's balanced FU-A sizes
        [300, 1210, 1210, 90, 1210],  # mixed: several runs
        [1000] * 70,  # more than the kernel's 64 segments and 65,000 bytes at once
        [173],  # one audio packet
    ],
)
def test_every_datagram_arrives_once_in_order_with_its_bytes(sizes):
    async def scenario():
        protocol, sock = await _sender(), _receiver()
        frame = _frame(sizes)
        await _send_frame(protocol, frame, sock.getsockname())
        got = await asyncio.to_thread(_received, sock, len(frame))
        sock.settimeout(0.2)
        with pytest.raises(TimeoutError):
            sock.recv(65536)  # nothing more
        protocol.transport.close()
        sock.close()
        return frame, got

    frame, got = asyncio.run(scenario())

    assert got == frame


def test_datagrams_to_two_addresses_each_reach_their_own():
    async def scenario():
        protocol, first, second = await _sender(), _receiver(), _receiver()
        for index in range(6):
            target = first if index % 2 == 0 else second
            await protocol.send_data(bytes([index]) * 1000, target.getsockname())
        await asyncio.sleep(0)
        got = await asyncio.to_thread(lambda: (_received(first, 3), _received(second, 3)))
        protocol.transport.close()
        return got

    to_first, to_second = asyncio.run(scenario())

    assert to_first == [bytes([i]) * 1000 for i in (0, 2, 4)]
    assert to_second == [bytes([i]) * 1000 for i in (1, 3, 5)]


def test_a_kernel_without_segmentation_gets_the_datagrams_one_by_one(monkeypatch):
    class NoGso:
        def sendmsg(self, *args):
            raise OSError(5, "Input/output error")  # what sendmsg answers without GSO

    async def scenario():
        protocol, sock = await _sender(), _receiver()
        udp_batching._state(protocol).sock = NoGso()
        frame = _frame([1210] * 5)
        await _send_frame(protocol, frame, sock.getsockname())
        got = await asyncio.to_thread(_received, sock, len(frame))
        protocol.transport.close()
        return frame, got

    monkeypatch.setattr(udp_batching, "_enabled", True)
    frame, got = asyncio.run(scenario())

    assert got == frame
    assert udp_batching._enabled is False  # and later sends skip the queue


def test_a_closed_transport_drops_its_queue_quietly_and_frees_its_port():
    async def scenario():
        protocol, sock = await _sender(), _receiver()
        port = protocol.transport.get_extra_info("sockname")[1]
        await protocol.send_data(b"x" * 100, sock.getsockname())
        protocol.transport.close()
        await asyncio.sleep(0.05)
        return protocol, sock, port

    protocol, sock, port = asyncio.run(scenario())
    sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        sock.recv(65536)
    # The socket duplicated for sendmsg is closed with the transport: the port is free
    # again while the protocol object still exists (WEBRTC_UDP_PORTS reuses its ports).
    again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    again.bind(("127.0.0.1", port))
    again.close()
    assert protocol is not None


def test_a_transport_without_a_socket_sends_each_datagram_itself():
    # What a TURN allocation's transport is (aioice's TurnTransport): no socket of its own,
    # no is_closing(); it wraps each datagram for the TURN server. A stand-in, because the
    # real one needs a TURN server (streaming/tests/test_whip_turn.py runs one).
    class RelayTransport:
        def __init__(self):
            self.sent = []

        def get_extra_info(self, name, default=None):
            return default

        def sendto(self, data, addr):
            self.sent.append((data, addr))

    async def scenario():
        protocol = _Protocol()
        protocol.transport = RelayTransport()
        for index in range(3):
            await protocol.send_data(bytes([index]) * 1000, ("192.0.2.1", 3478))
        await asyncio.sleep(0)
        return protocol

    protocol = asyncio.run(scenario())

    assert protocol.transport.sent == [(bytes([i]) * 1000, ("192.0.2.1", 3478)) for i in range(3)]
