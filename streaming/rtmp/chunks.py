"""The RTMP chunk stream: splitting messages into chunks and putting them back together.

RTMP interleaves messages (audio, video, commands) as chunks on numbered chunk streams,
each chunk header compressed against the previous one on its chunk stream (formats 0-3),
with a 4-byte extended timestamp when the 24-bit field overflows. `ChunkDecoder` is
sans-IO: `feed()` bytes in any split, get complete `Message`s back. It applies Set Chunk
Size and Abort itself, because they change how the very next chunk must be parsed.

Written by hand because the Python RTMP libraries read from a socket inside the parser
(so they cannot be fuzzed or bounded) and trust peer-supplied sizes. Here every size the
peer announces is checked against `ChunkLimits` before anything is buffered, so memory
per connection stays under roughly `max_pending_bytes + max_chunk_size` plus one read,
whatever arrives; a violation raises `ProtocolError`.

Decoder policies where peers disagree or the spec is silent:
- a type 3 chunk that starts a new message repeats the previous timestamp delta; after a
  type 0 chunk that delta is the type 0 timestamp (the spec's rule, which ffmpeg follows);
- a type 3 chunk carries the 4-byte extended timestamp whenever the header it continues
  did (the spec's rule; ffmpeg, librtmp and GStreamer all write it);
- a type 1 chunk may open a chunk stream (librtmp does this); its message stream id is 0;
- a new header on a chunk stream that is mid-message discards the partial message;
- zero-length messages carry nothing and are dropped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import ProtocolError
from .messages import Message, MessageType

_U24_MAX = 0xFFFFFF
_U32 = struct.Struct(">I")
_LE32 = struct.Struct("<I")
_HEADER_SIZES = (11, 7, 3, 0)


@dataclass(frozen=True)
class ChunkLimits:
    """Bounds on what a peer may make us buffer or parse."""

    max_chunk_size: int = 65536
    # The spec allows 1, but a tiny chunk size only multiplies our per-chunk work.
    min_chunk_size: int = 128
    max_message_length: int = 4 * 1024 * 1024
    max_chunk_streams: int = 64
    # All partially received messages together, across chunk streams.
    max_pending_bytes: int = 8 * 1024 * 1024


@dataclass
class _ChunkStream:
    timestamp: int = 0
    # The last header's timestamp field: absolute after type 0, a delta after type 1/2.
    timestamp_field: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    partial: bytearray | None = None


@dataclass
class _Header:
    csid: int
    fmt: int
    end: int
    timestamp_field: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False


@dataclass
class ChunkDecoder:
    """Reassembles messages from a peer's chunk stream; feed it everything it sends."""

    limits: ChunkLimits = field(default_factory=ChunkLimits)
    chunk_size: int = 128

    def __post_init__(self) -> None:
        self._buffer = bytearray()
        self._streams: dict[int, _ChunkStream] = {}
        self._pending = 0

    @property
    def buffered_bytes(self) -> int:
        """Unparsed input plus partial messages: what the peer currently costs us."""
        return len(self._buffer) + self._pending

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages they complete, in arrival order."""
        self._buffer += data
        messages: list[Message] = []
        pos = 0
        try:
            while True:
                next_pos = self._read_chunk(pos, messages)
                if next_pos is None:
                    break
                pos = next_pos
        finally:
            del self._buffer[:pos]
        return messages

    def _read_chunk(self, pos: int, messages: list[Message]) -> int | None:
        header = self._read_header(pos)
        if header is None:
            return None
        stream = self._streams.get(header.csid)
        if stream is None:
            stream = self._open_chunk_stream(header)
        continuing = header.fmt == 3 and stream.partial is not None
        length = stream.length if header.fmt >= 2 else header.length
        received = len(stream.partial) if continuing else 0
        take = min(self.chunk_size, length - received)
        end = header.end + take
        if end > len(self._buffer):
            return None
        body = self._buffer[header.end : end]
        if not continuing:
            self._start_message(stream, header)
        message = self._append(stream, header.csid, body)
        if message is not None:
            self._deliver(message, messages)
        return end

    def _read_header(self, pos: int) -> _Header | None:
        buf = self._buffer
        size = len(buf)
        if pos >= size:
            return None
        first = buf[pos]
        fmt, csid, pos = first >> 6, first & 0x3F, pos + 1
        if csid == 0:
            if pos + 1 > size:
                return None
            csid, pos = 64 + buf[pos], pos + 1
        elif csid == 1:
            if pos + 2 > size:
                return None
            csid, pos = 64 + buf[pos] + buf[pos + 1] * 256, pos + 2
        header = _Header(csid=csid, fmt=fmt, end=pos + _HEADER_SIZES[fmt])
        if header.end > size:
            return None
        self._parse_message_header(header, pos)
        if header.extended:
            if header.end + 4 > size:
                return None
            if fmt < 3:
                header.timestamp_field = _U32.unpack_from(buf, header.end)[0]
            header.end += 4
        return header

    def _parse_message_header(self, header: _Header, pos: int) -> None:
        buf = self._buffer
        if header.fmt == 3:
            stream = self._streams.get(header.csid)
            header.extended = stream is not None and stream.extended
            return
        header.timestamp_field = int.from_bytes(buf[pos : pos + 3], "big")
        header.extended = header.timestamp_field == _U24_MAX
        if header.fmt <= 1:
            header.length = int.from_bytes(buf[pos + 3 : pos + 6], "big")
            header.type_id = buf[pos + 6]
            if header.length > self.limits.max_message_length:
                raise ProtocolError(
                    f"message of {header.length} bytes exceeds the "
                    f"{self.limits.max_message_length}-byte limit"
                )
        if header.fmt == 0:
            header.stream_id = _LE32.unpack_from(buf, pos + 7)[0]

    def _open_chunk_stream(self, header: _Header) -> _ChunkStream:
        if header.fmt >= 2:
            raise ProtocolError(f"chunk stream {header.csid} starts without a message header")
        if len(self._streams) >= self.limits.max_chunk_streams:
            raise ProtocolError(f"more than {self.limits.max_chunk_streams} chunk streams")
        stream = _ChunkStream()
        self._streams[header.csid] = stream
        return stream

    def _start_message(self, stream: _ChunkStream, header: _Header) -> None:
        if stream.partial is not None:
            self._discard_partial(stream)
        if header.fmt == 0:
            stream.timestamp = header.timestamp_field
            stream.stream_id = header.stream_id
        elif header.fmt == 3:
            stream.timestamp = (stream.timestamp + stream.timestamp_field) & 0xFFFFFFFF
        else:
            stream.timestamp = (stream.timestamp + header.timestamp_field) & 0xFFFFFFFF
        if header.fmt < 3:
            stream.timestamp_field = header.timestamp_field
            stream.extended = header.extended
        if header.fmt <= 1:
            stream.length = header.length
            stream.type_id = header.type_id
        stream.partial = bytearray()

    def _append(self, stream: _ChunkStream, csid: int, body: bytearray) -> Message | None:
        assert stream.partial is not None
        if len(stream.partial) + len(body) < stream.length:
            if self._pending + len(body) > self.limits.max_pending_bytes:
                raise ProtocolError("too many bytes of unfinished messages")
            stream.partial += body
            self._pending += len(body)
            return None
        payload = bytes(stream.partial + body) if stream.partial else bytes(body)
        self._discard_partial(stream)
        if not payload:
            return None
        return Message(stream.type_id, stream.timestamp, stream.stream_id, payload, csid)

    def _discard_partial(self, stream: _ChunkStream) -> None:
        if stream.partial is not None:
            self._pending -= len(stream.partial)
            stream.partial = None

    def _deliver(self, message: Message, messages: list[Message]) -> None:
        if message.type_id == MessageType.SET_CHUNK_SIZE:
            self.chunk_size = self._parse_chunk_size(message.payload)
        elif message.type_id == MessageType.ABORT:
            if len(message.payload) < 4:
                raise ProtocolError("Abort message is too short")
            aborted = self._streams.get(_U32.unpack_from(message.payload)[0])
            if aborted is not None:
                self._discard_partial(aborted)
        else:
            messages.append(message)

    def _parse_chunk_size(self, payload: bytes) -> int:
        if len(payload) < 4:
            raise ProtocolError("Set Chunk Size message is too short")
        size = _U32.unpack_from(payload)[0]
        if not self.limits.min_chunk_size <= size <= self.limits.max_chunk_size:
            raise ProtocolError(
                f"chunk size {size} is outside {self.limits.min_chunk_size}"
                f"..{self.limits.max_chunk_size}"
            )
        return size


@dataclass
class ChunkEncoder:
    """Splits the server's outgoing messages into chunks (type 0, then type 3)."""

    chunk_size: int = 128

    def encode(self, message: Message) -> bytes:
        payload = message.payload
        extended = message.timestamp >= _U24_MAX
        timestamp_field = _U24_MAX if extended else message.timestamp
        extended_bytes = _U32.pack(message.timestamp & 0xFFFFFFFF) if extended else b""
        out = bytearray(_basic_header(0, message.chunk_stream_id))
        out += timestamp_field.to_bytes(3, "big")
        out += len(payload).to_bytes(3, "big")
        out.append(message.type_id)
        out += _LE32.pack(message.stream_id)
        out += extended_bytes
        continuation = _basic_header(3, message.chunk_stream_id) + extended_bytes
        for offset in range(0, max(len(payload), 1), self.chunk_size):
            if offset:
                out += continuation
            out += payload[offset : offset + self.chunk_size]
        return bytes(out)


def _basic_header(fmt: int, csid: int) -> bytes:
    if 2 <= csid < 64:
        return bytes([fmt << 6 | csid])
    if 64 <= csid < 320:
        return bytes([fmt << 6, csid - 64])
    if 320 <= csid < 65600:
        rest = csid - 64
        return bytes([fmt << 6 | 1, rest & 0xFF, rest >> 8])
    raise ValueError(f"chunk stream id {csid} is out of range")
