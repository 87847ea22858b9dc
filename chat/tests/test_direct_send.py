"""The fan-out's fast path (livesite/direct_send.py) against daphne's real classes."""

import functools

from autobahn.twisted.websocket import WebSocketServerFactory
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

from chat.hub import RoomHub, Viewer
from livesite.direct_send import websocket_protocol


class RecordingProtocol(WebSocketProtocol):
    """daphne's protocol with the transport replaced by a list of written frames."""

    def __init__(self, factory, state):
        self.factory = factory
        self.state = state
        self.written = []
        self._perMessageCompress = None

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
