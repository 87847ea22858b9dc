"""A WebSocket client that can send frames no library would: the bad-frame fault tests.

`websockets` refuses to write invalid UTF-8, oversized control frames, unmasked or
fragmented control frames; a hostile client writes them anyway. This speaks just
enough of RFC 6455 to open a socket, write any frame byte for byte, and read what the
server answers (data frames and the close code).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from dataclasses import dataclass, field

# Frames the room sends everyone; not an answer to what a test sent.
ROOM_TRAFFIC = {"chat.message", "presence.count", "presence.join", "presence.leave", "likes"}
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def frame(
    opcode: int,
    payload: bytes,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length: int | None = None,
) -> bytes:
    """One frame; `length` overrides the announced payload length (a lying header)."""
    announced = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    if announced < 126:
        head += bytes([mask_bit | announced])
    elif announced < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack(">H", announced)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", announced)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def text(data: str | bytes, **options) -> bytes:
    return frame(TEXT, data.encode() if isinstance(data, str) else data, **options)


@dataclass
class RawWebSocket:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    frames: list[dict] = field(default_factory=list)  # JSON frames the server sent
    close_code: int | None = None

    @classmethod
    async def open(cls, base_url: str, path: str, cookie: str | None = None) -> RawWebSocket:
        host_port = base_url.split("://", 1)[1]
        host, port = host_port.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {base_url}\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + "\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"no upgrade: {status[:80]!r}")
        return cls(reader, writer)

    async def send(self, *raw_frames: bytes) -> None:
        try:
            self.writer.write(b"".join(raw_frames))
            await self.writer.drain()
        except (ConnectionError, OSError):
            pass  # the server may hang up half-way through a hostile write

    async def read_until_quiet(self, quiet: float = 0.5, limit: float = 10) -> None:
        """Read server frames until no answer of ours comes for `quiet` s, the socket
        closes, or `limit`. The room's own traffic (other viewers' chat, counts) arrives
        all along and does not count as an answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        quiet_until = loop.time() + quiet
        try:
            while self.close_code is None and loop.time() < min(deadline, quiet_until):
                before = len(self.frames)
                try:
                    await asyncio.wait_for(self._read_frame(), quiet_until - loop.time())
                except TimeoutError:
                    return
                if any(f["type"] not in ROOM_TRAFFIC for f in self.frames[before:]):
                    quiet_until = loop.time() + quiet
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            if self.close_code is None:
                self.close_code = 1006  # dropped without a close frame

    async def read_until(self, answered, limit: float = 10) -> None:
        """Read server frames until `answered(self)` holds, the socket closes, or `limit`."""
        try:
            async with asyncio.timeout(limit):
                while self.close_code is None and not answered(self):
                    await self._read_frame()
        except TimeoutError:
            pass
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            if self.close_code is None:
                self.close_code = 1006

    async def _read_frame(self) -> None:
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", await self.reader.readexactly(8))[0]
        payload = await self.reader.readexactly(length)
        opcode = first & 0x0F
        if opcode == CLOSE:
            self.close_code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
        elif opcode == TEXT:
            event = json.loads(payload)
            self.frames.extend(event["events"] if event.get("type") == "batch" else [event])

    def error_codes(self) -> list[str]:
        return [f["code"] for f in self.frames if f.get("type") == "error"]

    def close(self) -> None:
        self.writer.transport.abort()
