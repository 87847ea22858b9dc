"""One publisher's RTMP connection: handshake, commands, media, acknowledgements.

`PublisherConnection.run()` drives a single connection from the handshake to the end of
the publish and returns why it ended; it raises `ProtocolError` when the peer breaks the
protocol or a limit (timeouts included). `RtmpServer` (server.py) owns the task around
it, the logging and `PublishSession.on_close`. Kept apart from the server so the server
file stays about many connections and this one about a single conversation.

Policies:
- unknown message types, shared objects, aggregate messages and unknown commands are
  ignored (a publisher never needs them, and ignoring is what other ingest servers do);
  every message still counts against the chunk limits, so ignoring costs nothing;
- `play` is refused by closing: this server only ingests;
- the stream key is the publish name up to any `?`; empty keys and keys longer than
  `max_stream_key_length` are refused with NetStream.Publish.BadName before `authorize`
  is called;
- the key is kept only in this object; logs carry `key_fingerprint()` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from . import handshake, messages
from .chunks import ChunkDecoder, ChunkEncoder, ChunkLimits
from .errors import ProtocolError, PublishRejected
from .flv import FlvMuxer
from .messages import Command, Message, MessageType, UserControlEvent

# A per-process secret makes fingerprints useless for guessing keys offline, while one
# key still maps to one fingerprint in a process's logs.
_FINGERPRINT_SECRET = os.urandom(16)

SERVER_CHUNK_SIZE = 4096
ACK_WINDOW = 2_500_000
READ_SIZE = 65536
UNPUBLISH_LINGER = 2.0
UNPUBLISHED = "publisher unpublished"


def key_fingerprint(stream_key: str) -> str:
    """A short, non-reversible tag for a stream key, safe to log."""
    digest = hmac.new(_FINGERPRINT_SECRET, stream_key.encode(), hashlib.sha256)
    return digest.hexdigest()[:8]


class PublishSession(Protocol):
    """What `authorize` returns: the application's end of one live publish.

    `on_flv` receives the FLV byte stream in order (file header first); the server awaits
    it, so a slow session slows down reading from that publisher and nothing else.
    `on_close` is called exactly once, after the last `on_flv`, with a short reason.
    """

    async def on_flv(self, data: bytes) -> None: ...

    async def on_close(self, reason: str) -> None: ...


Authorize = Callable[[str, str, str], Awaitable[PublishSession]]


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection bounds; breaking one closes that connection only."""

    handshake_timeout: float = 5.0
    idle_timeout: float = 30.0
    # From accepting the socket to the publish command: stops clients idling with pings.
    publish_timeout: float = 15.0
    authorize_timeout: float = 10.0
    write_timeout: float = 10.0
    max_connections: int = 1000
    # One address cannot take every slot (an encoder needs one; a few behind one NAT).
    max_connections_per_address: int = 8
    # Until a publish is accepted, a peer is unknown: it may make us hold this much at most
    # (unparsed input plus partial messages); commands before publish are a few hundred bytes.
    max_bytes_before_publish: int = 65536
    max_chunk_size: int = 65536
    max_message_length: int = 4 * 1024 * 1024
    max_chunk_streams: int = 64
    max_pending_bytes: int = 8 * 1024 * 1024
    max_stream_key_length: int = 256

    def chunk_limits(self, before_publish: bool = False) -> ChunkLimits:
        cap = self.max_bytes_before_publish if before_publish else None
        return ChunkLimits(
            max_chunk_size=self.max_chunk_size,
            max_message_length=min(self.max_message_length, cap or self.max_message_length),
            max_chunk_streams=self.max_chunk_streams,
            max_pending_bytes=min(self.max_pending_bytes, cap or self.max_pending_bytes),
        )


@dataclass
class _Acknowledger:
    """Tracks bytes received and says when the peer's window calls for an Acknowledgement."""

    window: int = ACK_WINDOW
    received: int = 0
    acknowledged: int = 0

    def count(self, size: int) -> int | None:
        self.received += size
        if self.received - self.acknowledged < self.window:
            return None
        self.acknowledged = self.received
        return self.received


@dataclass(eq=False)  # Identity: the server keys its connection table by object.
class PublisherConnection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    authorize: Authorize
    limits: ServerLimits
    peer: str
    app: str = ""
    stream_key: str | None = None
    session: PublishSession | None = None

    def __post_init__(self) -> None:
        self._connected = False
        self._flv: list[bytes] = []
        self._decoder = ChunkDecoder(self.limits.chunk_limits(before_publish=True))
        self._encoder = ChunkEncoder()
        self._muxer = FlvMuxer()
        self._acknowledger = _Acknowledger()

    def describe(self) -> str:
        """Peer, app and key fingerprint: everything a log line may say about us."""
        text = f"peer={self.peer}"
        if self.app:
            text += f" app={self.app[:64]!r}"
        if self.stream_key:
            text += f" key={key_fingerprint(self.stream_key)}"
        return text

    def redact(self, text: str) -> str:
        """Remove the stream key from text written by code we do not control."""
        if self.stream_key:
            text = text.replace(self.stream_key, f"<key {key_fingerprint(self.stream_key)}>")
        return text

    async def run(self) -> str:
        """Serve the connection until it ends; return the reason it ended."""
        await self._handshake()
        publish_deadline = asyncio.get_running_loop().time() + self.limits.publish_timeout
        while True:
            data = await self._read(None if self.session else publish_deadline)
            if not data:
                await self._flush_flv()
                return "publisher disconnected"
            await self._acknowledge(len(data))
            ended = None
            for message in self._decoder.feed(data):
                ended = await self._handle(message)
                if ended:
                    break
            self._check_unpublished_buffer()
            await self._flush_flv()
            if ended == UNPUBLISHED:
                await self._linger()
            if ended:
                return ended

    def _check_unpublished_buffer(self) -> None:
        if self.session is not None:
            return
        buffered = self._decoder.buffered_bytes
        if buffered > self.limits.max_bytes_before_publish:
            raise ProtocolError(
                f"{buffered} bytes buffered before a publish was accepted "
                f"(limit {self.limits.max_bytes_before_publish})"
            )

    async def _linger(self) -> None:
        """Let the publisher close first after deleteStream.

        GStreamer's rtmp2sink reports "connection closed remotely" as an error if the
        server hangs up while it is still finishing its unpublish sequence.
        """
        try:
            async with asyncio.timeout(UNPUBLISH_LINGER):
                while await self.reader.read(READ_SIZE):
                    pass
        except (TimeoutError, ConnectionError):
            pass

    async def _handshake(self) -> None:
        try:
            async with asyncio.timeout(self.limits.handshake_timeout):
                version = await self.reader.readexactly(1)
                if version[0] != handshake.RTMP_VERSION:
                    raise ProtocolError(f"handshake: unsupported RTMP version {version[0]}")
                c1 = await self.reader.readexactly(handshake.PACKET_SIZE)
                self.writer.write(handshake.server_reply(version + c1))
                await self.writer.drain()
                c2 = await self.reader.readexactly(handshake.CLIENT_ACK_SIZE)
                handshake.check_client_ack(c2)
        except TimeoutError:
            raise ProtocolError(
                f"handshake not finished within {self.limits.handshake_timeout:g} s"
            ) from None
        except asyncio.IncompleteReadError:
            raise ProtocolError("connection closed during the handshake") from None

    async def _read(self, publish_deadline: float | None) -> bytes:
        timeout = self.limits.idle_timeout
        reason = f"no data for {timeout:g} s"
        if publish_deadline is not None:
            remaining = publish_deadline - asyncio.get_running_loop().time()
            if remaining < timeout:
                timeout = max(remaining, 0.0)
                reason = f"no publish within {self.limits.publish_timeout:g} s"
        try:
            async with asyncio.timeout(timeout):
                return await self.reader.read(READ_SIZE)
        except TimeoutError:
            raise ProtocolError(reason) from None

    async def _acknowledge(self, size: int) -> None:
        sequence_number = self._acknowledger.count(size)
        if sequence_number is not None:
            await self._send(messages.acknowledgement(sequence_number))

    async def _send(self, *outgoing: Message) -> None:
        self.writer.write(b"".join(self._encoder.encode(message) for message in outgoing))
        try:
            async with asyncio.timeout(self.limits.write_timeout):
                await self.writer.drain()
        except TimeoutError:
            raise ProtocolError(
                f"peer did not read our replies for {self.limits.write_timeout:g} s"
            ) from None

    async def _flush_flv(self) -> None:
        if self._flv and self.session is not None:
            data = b"".join(self._flv)
            self._flv.clear()
            await self.session.on_flv(data)

    async def _handle(self, message: Message) -> str | None:
        type_id = message.type_id
        if type_id in (MessageType.AUDIO, MessageType.VIDEO, MessageType.DATA_AMF0):
            if self.session is not None:
                self._flv.append(self._muxer.mux(message))
        elif type_id in (MessageType.COMMAND_AMF0, MessageType.COMMAND_AMF3):
            return await self._handle_command(messages.parse_command(message))
        elif type_id == MessageType.WINDOW_ACK_SIZE:
            self._acknowledger.window = max(messages.parse_u32(message), 1)
        elif type_id == MessageType.USER_CONTROL:
            event, data = messages.parse_user_control(message)
            if event == UserControlEvent.PING_REQUEST:
                await self._send(messages.ping_response(data))
        return None

    async def _handle_command(self, command: Command) -> str | None:
        name = command.name
        if name == "connect":
            await self._connect(command)
        elif not self._connected:
            raise ProtocolError("command before connect")
        elif name in ("releaseStream", "FCPublish"):
            await self._send(messages.result(command.transaction_id))
        elif name == "createStream":
            await self._send(
                messages.result(command.transaction_id, float(messages.PUBLISH_STREAM_ID))
            )
        elif name == "publish":
            return await self._publish(command)
        elif name in ("deleteStream", "closeStream"):
            return UNPUBLISHED
        elif name == "play":
            raise ProtocolError("playback requested from the ingest server")
        return None

    async def _connect(self, command: Command) -> None:
        if self._connected:
            raise ProtocolError("connect sent twice")
        properties: Any = command.command_object
        app = properties.get("app") if isinstance(properties, dict) else None
        if not isinstance(app, str):
            raise ProtocolError("connect without an app name")
        self.app = app.split("?", 1)[0].strip("/")
        self._connected = True
        self._encoder.chunk_size = SERVER_CHUNK_SIZE
        await self._send(
            messages.window_ack_size(ACK_WINDOW),
            messages.set_peer_bandwidth(ACK_WINDOW),
            messages.set_chunk_size(SERVER_CHUNK_SIZE),
            messages.connect_result(command.transaction_id),
        )

    async def _publish(self, command: Command) -> str | None:
        if self.session is not None:
            raise ProtocolError("publish sent twice")
        name = command.arguments[0] if command.arguments else ""
        if not isinstance(name, str):
            name = ""
        self.stream_key = messages.stream_key_from_publish_name(name)
        if not self.stream_key:
            return await self._refuse(messages.PUBLISH_BAD_NAME, "The stream key is missing.")
        if len(self.stream_key) > self.limits.max_stream_key_length:
            return await self._refuse(messages.PUBLISH_BAD_NAME, "The stream key is too long.")
        try:
            async with asyncio.timeout(self.limits.authorize_timeout):
                session = await self.authorize(self.app, self.stream_key, self.peer)
        except PublishRejected as rejection:
            return await self._refuse(rejection.code, rejection.description)
        except TimeoutError:
            await self._refuse(messages.STREAM_FAILED, "The server could not check the key.")
            return f"authorize took longer than {self.limits.authorize_timeout:g} s"
        except Exception:
            await self._refuse(messages.STREAM_FAILED, "The server could not check the key.")
            raise
        self.session = session
        self._decoder.limits = self.limits.chunk_limits()  # a known publisher: media sizes
        await self._send(
            messages.stream_begin(messages.PUBLISH_STREAM_ID),
            messages.on_status(
                messages.PUBLISH_STREAM_ID, "status", messages.PUBLISH_START, "Publishing."
            ),
        )
        return None

    async def _refuse(self, code: str, description: str) -> str:
        status = messages.on_status(messages.PUBLISH_STREAM_ID, "error", code, description)
        await self._send(status)
        return f"publish refused: {code}"
