"""The RTMP ingest server: many broadcasters on one port, each checked by stream key.

FFmpeg's (and PyAV's) RTMP listen mode serves one publisher per open and cannot check a
stream key, and pyrtmp, the Python server library we evaluated, hangs with GStreamer's
rtmp2sink, forces global debug logging and pins an old bitstring. So the protocol is
ours (`handshake`, `chunks`, `messages`, `flv`), and this module only runs connections:

    server = RtmpServer("0.0.0.0", 1935, authorize, ServerLimits())
    await server.start()
    ...
    await server.drop(session, "stream key rotated")   # cut one broadcaster now
    await server.close()                               # stop accepting, end everyone

`authorize(app, stream_key, peer)` is the application's hook: it returns a
`PublishSession` that receives the FLV stream, or raises `PublishRejected`. Each
connection runs in its own task and everything it raises is caught there, so one
broken publisher (or one failing session) never touches another. Every connection
ends with one log line on `livesite.rtmp` naming the peer, the app, a key fingerprint
and the reason (a second one only if the session's own on_close fails); the stream key
itself is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import Counter

from .connection import Authorize, PublisherConnection, PublishSession, ServerLimits
from .errors import ProtocolError, PublishRejected

logger = logging.getLogger("livesite.rtmp")

__all__ = ["PublishRejected", "PublishSession", "RtmpServer", "ServerLimits"]

_CLOSE_GRACE = 1.0


class RtmpServer:
    def __init__(
        self,
        host: str,
        port: int,
        authorize: Authorize,
        limits: ServerLimits | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.authorize = authorize
        self.limits = limits or ServerLimits()
        self._server: asyncio.Server | None = None
        self._connections: dict[PublisherConnection, asyncio.Task] = {}
        self._drop_reasons: dict[PublisherConnection, str] = {}
        self._ending: set[PublisherConnection] = set()
        self._per_address: Counter[str] = Counter()

    async def start(self) -> None:
        """Bind and start accepting publishers."""
        self._server = await asyncio.start_server(self._serve, self.host, self.requested_port)
        logger.info("RTMP ingest listening on %s:%d", self.host, self.port)

    @property
    def port(self) -> int:
        """The bound port (useful when constructed with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not started")
        return self._server.sockets[0].getsockname()[1]

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def sessions(self) -> list[PublishSession]:
        """Sessions that are publishing right now."""
        return [c.session for c in self._connections if c.session is not None]

    async def drop(self, session: PublishSession, reason: str = "dropped by the server") -> bool:
        """Cut the connection publishing to `session` at once.

        Returns after the socket is closed and `session.on_close(reason)` has run, or
        False if no live connection has this session. Called from inside that
        session's own `on_flv`, it only requests the cut (awaiting would deadlock).
        """
        for connection, task in self._connections.items():
            if connection.session is session:
                return await self._cut(connection, task, reason)
        return False

    async def close(self) -> None:
        """Stop accepting, then end every connection (their sessions get on_close)."""
        if self._server is not None:
            self._server.close()
        cuts = [
            self._cut(connection, task, "server shutting down")
            for connection, task in list(self._connections.items())
        ]
        await asyncio.gather(*cuts)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> RtmpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _cut(self, connection: PublisherConnection, task: asyncio.Task, reason: str) -> bool:
        # Already ending: cancelling again could interrupt its on_close.
        if connection not in self._drop_reasons and connection not in self._ending:
            self._drop_reasons[connection] = reason
            task.cancel()
        # A session dropping itself must not wait for its own task.
        if task is not asyncio.current_task():
            await asyncio.wait({task})
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _format_peer(writer.get_extra_info("peername"))
        if len(self._connections) >= self.limits.max_connections:
            logger.warning("RTMP publisher peer=%s refused: connection limit reached", peer)
            writer.transport.abort()
            return
        address = _address_of(writer.get_extra_info("peername"))
        if self._per_address[address] >= self.limits.max_connections_per_address:
            logger.warning("RTMP publisher peer=%s refused: per-address connection limit", peer)
            writer.transport.abort()
            return
        self._per_address[address] += 1
        task = asyncio.current_task()
        assert task is not None
        connection = PublisherConnection(reader, writer, self.authorize, self.limits, peer)
        self._connections[connection] = task
        try:
            reason, cancelled = await self._run(connection, task)
            # From here on the connection is ending anyway; a drop must not cancel on_close.
            self._ending.add(connection)
            await self._end(connection, reason)
        finally:
            self._connections.pop(connection, None)
            self._drop_reasons.pop(connection, None)
            self._ending.discard(connection)
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]
        if cancelled:
            raise asyncio.CancelledError

    async def _run(self, connection: PublisherConnection, task: asyncio.Task) -> tuple[str, bool]:
        """Run one connection; turn whatever ends it into a reason and one log line.

        Also says whether the task was cancelled by someone other than `drop`/`close`
        (the event loop shutting down), so the caller can re-raise after cleaning up.
        """
        log, cancelled = logger.info, False
        try:
            reason = await connection.run()
        except asyncio.CancelledError:
            if connection in self._drop_reasons:
                task.uncancel()
                reason = self._drop_reasons[connection]
            else:
                reason, cancelled = "server task cancelled", True
            connection.writer.transport.abort()
        except ProtocolError as error:
            log, reason = logger.warning, f"protocol error: {error}"
        except (OSError, asyncio.IncompleteReadError):
            reason = "connection lost"
        except Exception as error:
            reason = f"internal error: {type(error).__name__}"
            details = connection.redact("".join(traceback.format_exception(error)))
            logger.error("RTMP publisher %s closed: %s\n%s", connection.describe(), reason, details)
            return reason, cancelled
        log("RTMP publisher %s closed: %s", connection.describe(), reason)
        return reason, cancelled

    async def _end(self, connection: PublisherConnection, reason: str) -> None:
        """Close the socket, then tell the session (once) that its publish is over."""
        writer = connection.writer
        writer.close()
        try:
            async with asyncio.timeout(_CLOSE_GRACE):
                await writer.wait_closed()
        except (TimeoutError, OSError):
            writer.transport.abort()
        if connection.session is None:
            return
        try:
            await connection.session.on_close(reason)
        except Exception as error:
            details = connection.redact("".join(traceback.format_exception(error)))
            logger.error("RTMP session %s failed in on_close:\n%s", connection.describe(), details)


def _address_of(address: object) -> str:
    """The peer's host, without its port: what the per-address limit counts."""
    if isinstance(address, tuple) and address:
        return str(address[0])
    return str(address)


def _format_peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)
