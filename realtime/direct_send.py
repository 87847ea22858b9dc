"""The fast path of a room's fan-out: one frame written to thousands of sockets.

Every middleware of the socket stack wraps `send`, and Channels' session middleware
checks the session on each message (for cookies, which a WebSocket frame never
carries). Then daphne checks the message, encodes the text and autobahn frames it, once
per socket. A 2,000-viewer room with 20 messages a second spent most of its CPU there
(bench/chat_load.py --profile). So:

- `DirectSend` keeps the server's own `send` under ``scope["livesite.send"]``, and the
  hub writes `websocket.send` frames through it: nothing in the wrappers applies to
  them. Accept, close and the consumer's own replies still go through the stack.
- Under daphne, that `send` is bound to the connection's autobahn protocol;
  `websocket_protocol` finds it, and the hub frames a fan-out's payload once
  (autobahn's `prepareMessage`, made for broadcasting) and hands the same bytes to
  each open socket (`sendPreparedMessage`). Any other server (the test communicator,
  another ASGI server) gets `None` and the plain ASGI `send`.

- `send_prepared` then writes those bytes straight to the socket when nothing is
  queued before them, instead of `transport.write`: Twisted's write registers the
  socket with the event loop, waits a turn, sends, and unregisters it (two epoll
  changes and a loop callback per frame), which at 2,000 viewers was 40% of the
  process's CPU (bench/chat_load.py --profile). A socket that cannot take the whole
  frame at once gets the rest through `transport.write`, so Twisted's buffering,
  back-pressure and error handling still apply, and everything written after it
  queues behind it. Only plain TCP and Unix sockets take this path; TLS, compression
  or anything autobahn queued itself go the usual way.

Hand-written because neither Channels nor daphne offers a broadcast primitive; it
relies on daphne binding `send` as ``functools.partial(Server.handle_reply, protocol)``
(daphne 4) and on Twisted's `FileDescriptor` buffer attributes (Twisted 2x), and falls
back to the ASGI path, or to `transport.write`, when either ever changes.
"""

import functools

from twisted.internet import tcp

SCOPE_KEY = "livesite.send"


class DirectSend:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        return await self.app({**scope, SCOPE_KEY: send}, receive, send)


def websocket_protocol(send):
    """The autobahn protocol behind daphne's `send`, or None for any other server."""
    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return None
    handle_reply = getattr(send.func, "__func__", None)
    if getattr(handle_reply, "__qualname__", "") != "Server.handle_reply":
        return None
    protocol = send.args[0]
    if not hasattr(protocol, "sendPreparedMessage") or not hasattr(protocol, "factory"):
        return None
    return protocol


def is_open(protocol) -> bool:
    return protocol.state == protocol.STATE_OPEN


def send_prepared(protocol, prepared) -> None:
    """Write an autobahn prepared message to an open protocol; see the module docstring."""
    transport = protocol.transport
    if protocol._perMessageCompress is not None or protocol.send_queue or not _idle(transport):
        protocol.sendPreparedMessage(prepared)
        return
    data = prepared.payloadHybi
    try:
        sent = transport.socket.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:
        sent = 0  # Twisted meets the error on its own write and closes the connection
    if sent < len(data):
        transport.write(data[sent:])


def buffered_bytes(protocol) -> int:
    """Bytes written to the socket that the peer has not taken yet: Twisted's write
    buffer (the kernel's socket buffer, bounded by the kernel, comes on top). 0 when
    the transport is not a Twisted file descriptor."""
    transport = getattr(protocol, "transport", None)
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except (AttributeError, TypeError):
        return 0


def _idle(transport) -> bool:
    """A plain socket with nothing buffered: bytes sent now are next on the wire."""
    return (
        isinstance(transport, tcp.Connection)
        and not getattr(transport, "TLS", True)
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataLen
        and len(transport.dataBuffer) == transport.offset
    )
