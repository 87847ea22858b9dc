"""The fan-out's fast path (realtime/direct_send.py) against daphne's real classes."""

import functools
import socket

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import tcp

from chat.hub import RoomHub
from realtime.direct_send import send_prepared, websocket_protocol
from realtime.fan_out import Viewer


class RecordingProtocol(WebSocketProtocol):
    """daphne's protocol with the transport replaced by a list of written frames."""

    def __init__(self, factory, state):
        self.factory = factory
        self.state = state
        self.written = []
        self._perMessageCompress = None
        self.send_queue = []
        self.transport = None

    def sendData(self, data, sync=False, chopsize=None):
        self.written.append(data)


def daphne_send(protocol):
    server = Server.__new__(Server)
    return functools.partial(server.handle_reply, protocol)


def test_the_protocol_behind_daphnes_send_is_found():
    protocol = RecordingProtocol(WebSocketServerFactory(), WebSocketProtocol.STATE_OPEN)
    assert websocket_protocol(daphne_send(protocol)) is protocol


def test_any_other_send_gets_the_asgi_path():
    async def send(message):
        pass

    assert websocket_protocol(send) is None
    assert websocket_protocol(functools.partial(print, "x")) is None


async def test_one_framing_reaches_every_open_socket_and_skips_closed_ones():
    factory = WebSocketServerFactory()
    open_a = RecordingProtocol(factory, WebSocketProtocol.STATE_OPEN)
    open_b = RecordingProtocol(factory, WebSocketProtocol.STATE_OPEN)
    closed = RecordingProtocol(factory, WebSocketProtocol.STATE_CLOSED)
    asgi_frames = []

    async def asgi_send(message):
        asgi_frames.append(message)

    async def close(code):
        pass

    hub = RoomHub(process=None, room_id=1, slug="r", stream_id=None)
    for protocol in (open_a, open_b, closed):
        hub.add(Viewer(send=daphne_send(protocol), close=close, protocol=protocol))
    hub.add(Viewer(send=asgi_send, close=close))

    await hub.fan_out('{"type":"ping"}')

    assert open_a.written == open_b.written
    assert len(open_a.written) == 1
    frame = open_a.written[0]
    assert frame[0] == 0x81 and frame.endswith(b'{"type":"ping"}')  # FIN + text, unmasked
    assert closed.written == []
    assert asgi_frames == [{"type": "websocket.send", "text": '{"type":"ping"}'}]


# --- Writing straight to the socket --------------------------------------------------------


class Reactor:
    """What a Twisted connection asks of its reactor when it must wait to write."""

    def __init__(self):
        self.writers = set()

    def addWriter(self, selectable):
        self.writers.add(selectable)

    def removeWriter(self, selectable):
        self.writers.discard(selectable)


class SocketProtocol(RecordingProtocol):
    """daphne's protocol on a real Twisted connection over one end of a socket pair."""

    def __init__(self, factory, ours, reactor):
        super().__init__(factory, WebSocketProtocol.STATE_OPEN)
        self.transport = tcp.Connection(ours, self, reactor)
        self.transport.connected = True  # as tcp.Server sets on accepting

    def sendData(self, data, sync=False, chopsize=None):
        self.written.append(data)
        self.transport.write(data)  # as autobahn does


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    theirs.settimeout(5)
    yield ours, theirs
    ours.close()
    theirs.close()


def read_all(theirs, size):
    data = b""
    while len(data) < size:
        data += theirs.recv(size - len(data))
    return data


def test_a_frame_goes_straight_to_an_idle_socket(pair):
    ours, theirs = pair
    reactor = Reactor()
    factory = WebSocketServerFactory()
    protocol = SocketProtocol(factory, ours, reactor)
    prepared = factory.prepareMessage(b'{"type":"ping"}')

    send_prepared(protocol, prepared)

    assert read_all(theirs, len(prepared.payloadHybi)) == prepared.payloadHybi
    assert protocol.written == []  # not through autobahn and Twisted's write
    assert reactor.writers == set()


def test_what_the_socket_cannot_take_queues_in_order_behind_it(pair):
    ours, theirs = pair
    reactor = Reactor()
    factory = WebSocketServerFactory()
    protocol = SocketProtocol(factory, ours, reactor)
    frames = [
        factory.prepareMessage(f'{{"n":{n},"pad":"{"x" * 5000}"}}'.encode()) for n in range(40)
    ]

    for prepared in frames:
        send_prepared(protocol, prepared)

    assert reactor.writers == {protocol.transport}  # the kernel buffer filled: Twisted waits
    assert protocol.written  # and later frames queued behind the rest through Twisted
    expected = b"".join(prepared.payloadHybi for prepared in frames)
    received = b""
    while len(received) < len(expected):
        received += theirs.recv(65536)
        protocol.transport.doWrite()  # the reactor's turn: the socket is writable again
    assert received == expected


def test_a_closed_socket_is_left_to_twisted(pair):
    ours, theirs = pair
    factory = WebSocketServerFactory()
    protocol = SocketProtocol(factory, ours, Reactor())
    theirs.close()

    send_prepared(protocol, factory.prepareMessage(b"{}"))  # no exception reaches the hub


def test_a_tls_connection_goes_through_autobahn(pair):
    ours, theirs = pair
    factory = WebSocketServerFactory()
    protocol = RecordingProtocol(factory, WebSocketProtocol.STATE_OPEN)
    protocol.transport = tcp.Connection(ours, protocol, Reactor())
    protocol.transport.connected = True
    protocol.transport.TLS = True  # as after startTLS: the socket carries ciphertext
    prepared = factory.prepareMessage(b"{}")

    send_prepared(protocol, prepared)

    assert protocol.written == [prepared.payloadHybi]
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(10)  # nothing in clear text on the wire
