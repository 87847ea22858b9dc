"""A scriptable RTMP publisher built on our own encoder, for input real clients never send.

It can stop anywhere in the conversation and then send whatever bytes a test wants
(garbage, a hostile Set Chunk Size, an absurd message length), and it can tell whether
and when the server hung up.
"""

from __future__ import annotations

import asyncio
import os
import struct

from streaming.rtmp import handshake, messages
from streaming.rtmp.chunks import ChunkDecoder, ChunkEncoder, ChunkLimits
from streaming.rtmp.messages import Message, MessageType


class RawPublisher:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.encoder = ChunkEncoder()
        self.decoder = ChunkDecoder(ChunkLimits(min_chunk_size=1))
        self.received: list[Message] = []

    @classmethod
    async def open(cls, port: int) -> RawPublisher:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, *outgoing: Message) -> None:
        await self.send_raw(b"".join(self.encoder.encode(message) for message in outgoing))

    async def handshake(self) -> None:
        c1 = struct.pack(">II", 0, 0) + os.urandom(handshake.PACKET_SIZE - 8)
        await self.send_raw(bytes([handshake.RTMP_VERSION]) + c1)
        reply = await self.reader.readexactly(1 + 2 * handshake.PACKET_SIZE)
        assert reply[1 + handshake.PACKET_SIZE :] == c1, "S2 must echo C1"
        await self.send_raw(reply[1 : 1 + handshake.PACKET_SIZE])

    async def command(self, name: str, transaction_id: float, *values, stream_id: int = 0):
        await self.send(messages.command(name, transaction_id, *values, stream_id=stream_id))

    async def connect(self, app: str = "live") -> None:
        await self.handshake()
        await self.command("connect", 1, {"app": app, "tcUrl": f"rtmp://127.0.0.1/{app}"})
        await self.wait_for_command("_result")

    async def publish(self, name: str) -> dict:
        """Send the publish sequence; return the onStatus information object."""
        await self.command("releaseStream", 2, None, name)
        await self.command("FCPublish", 3, None, name)
        await self.command("createStream", 4, None)
        await self.command("publish", 5, None, name, "live", stream_id=1)
        status = await self.wait_for_command("onStatus")
        return status.arguments[0]

    async def wait_for_command(self, name: str, timeout: float = 5.0) -> messages.Command:
        async with asyncio.timeout(timeout):
            while True:
                for message in self.received:
                    if message.type_id == MessageType.COMMAND_AMF0:
                        command = messages.parse_command(message)
                        if command.name == name:
                            self.received.remove(message)
                            return command
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError(f"server closed before sending {name}")
                self.received += self.decoder.feed(data)

    async def receive(self, type_id: int, count: int = 1, timeout: float = 3.0) -> list[Message]:
        """Read until `count` messages of `type_id` have arrived; return them."""
        async with asyncio.timeout(timeout):
            while True:
                found = [m for m in self.received if m.type_id == type_id]
                if len(found) >= count:
                    return found
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError(f"server closed with {len(found)} of {count} messages")
                self.received += self.decoder.feed(data)

    async def send_media(self, count: int, payload: bytes = b"\x17\x01" + bytes(200)) -> None:
        for index in range(count):
            await self.send(Message(MessageType.VIDEO, index * 33, 1, payload, 6))

    async def closed_by_server_within(self, seconds: float) -> bool:
        """Read (discarding) until the server hangs up; False if it is still open."""
        try:
            async with asyncio.timeout(seconds):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        return True

    def close(self) -> None:
        self.writer.transport.abort()
