"""What daphne keeps for each WebSocket, trimmed to what the socket still needs.

A web process holds thousands of idle room sockets, so daphne's own per-connection
objects are a large share of what a socket costs (bench/bench_socket_memory.py
--trace). `LeanSocket`, the outermost ASGI layer, trims two of them at the start of
each WebSocket's application, before anything is read:

- `release_handshake`: the HTTP request the socket was upgraded from (~4 KB).
- `forget_handshake_headers` (called by a consumer once it has accepted): the
  handshake's headers, which daphne and autobahn keep three times over (autobahn's
  raw request bytes and parsed dict, daphne's list that every scope copy shares),
  cookies and user agent included: ~1 KB for a bare client, several for a browser.
- `InputQueue`: daphne gives each connection an `asyncio.Queue` for the frames it
  reads (three deques and an `asyncio.Event` with a fourth, ~3 KB even when empty);
  the socket only needs `put_nowait` (daphne's side) and `get` (the application's),
  with one reader, so a two-slot object replaces it and keeps a deque only while
  frames wait to be read.

Hand-written because daphne has no setting for either. It relies on daphne 4 binding
`send` to the connection's protocol (realtime/direct_send.py `websocket_protocol`),
on the protocol keeping the queue as `application_queue` and on `receive` being that
queue's `get`; when any of that differs (another server, the test communicator), the
socket is left as it is.
"""

import asyncio
from collections import deque

from realtime.direct_send import websocket_protocol


class LeanSocket:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            protocol = websocket_protocol(send)
            if protocol is not None:
                release_handshake(protocol)
                # Rebinding `receive` drops this frame's hold on daphne's queue as well.
                receive = lighten_input_queue(protocol, receive)
        return await self.app(scope, receive, send)


def release_handshake(protocol) -> None:
    """Let go of the HTTP request a WebSocket was upgraded from.

    daphne hands the TCP transport from Twisted's HTTPChannel to the WebSocket protocol,
    but the channel stays registered as the transport's producer, and with it the
    upgrade request, its headers, body buffer and addresses: about 4 KB a socket, for
    as long as the socket lives. Nothing needs it: daphne has already dropped the
    request from its connections (`Server.protocol_disconnected`), the transport
    delivers bytes to the WebSocket protocol, and the upgrade request is never
    finished, so the channel's `_handlingRequest` stays true and its
    `pauseProducing`/`resumeProducing` (all a producer is asked for, when Twisted's
    write buffer fills and drains) never touch the transport. A room socket's own
    back-pressure is chat/send_buffer.py. A transport whose producer is anything else
    is left alone.
    """
    transport = getattr(protocol, "transport", None)
    producer = getattr(transport, "producer", None)
    if type(producer).__name__ == "HTTPChannel" and hasattr(transport, "unregisterProducer"):
        transport.unregisterProducer()


def forget_handshake_headers(protocol) -> None:
    """Drop the handshake's headers once the socket is accepted.

    autobahn reads `http_request_data` and `http_headers` only while it parses the
    handshake; daphne reads `clean_headers` only to build the scope, whose copies all
    share that one list. Emptied in place, so every holder (autobahn's
    `ConnectionRequest` shares the dict) lets go; after the accept no layer of ours
    reads a socket's headers again (origin and cookies are checked before it).
    """
    if getattr(protocol, "http_request_data", None) is not None:
        protocol.http_request_data = b""
    for name in ("http_headers", "clean_headers"):
        held = getattr(protocol, name, None)
        if isinstance(held, (dict, list)):
            held.clear()


def lighten_input_queue(protocol, receive):
    """Swap daphne's input queue for an `InputQueue` holding the same frames; returns
    the `receive` to hand the application (the one given, if the swap does not apply)."""
    queue = getattr(protocol, "application_queue", None)
    if type(queue) is not asyncio.Queue or getattr(receive, "__self__", None) is not queue:
        return receive
    light = InputQueue()
    while not queue.empty():
        light.put_nowait(queue.get_nowait())
    protocol.application_queue = light
    return light.get


class InputQueue:
    """A FIFO with `put_nowait` and `get`, for one reader at a time (ASGI's `receive`)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items = None  # a deque only while frames wait to be read
        self._waiter = None

    def put_nowait(self, item) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    async def get(self):
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("InputQueue.get: another reader is already waiting")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item
