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

Hand-written because neither Channels nor daphne offers a broadcast primitive; it
relies on daphne binding `send` as ``functools.partial(Server.handle_reply, protocol)``
(daphne 4), and falls back to the ASGI path when that ever changes.
"""

import functools

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
