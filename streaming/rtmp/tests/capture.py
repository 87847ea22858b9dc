"""Records the bytes a real ffmpeg publisher sends, for the decoder tests and fuzzing.

A recording proxy sits between ffmpeg and a running `RtmpServer` and keeps everything
the client sent: handshake, connect, publish, one second of 160x120 H.264/AAC, unpublish.
Regenerate the fixture with

    .venv/bin/python -m streaming.rtmp.tests.capture streaming/rtmp/tests/data/ffmpeg_publish.bin
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from .harness import Broadcasts, running_server
from .publishers import ffmpeg_publish, run_client

CAPTURE_PATH = Path(__file__).parent / "data" / "ffmpeg_publish.bin"
CAPTURE_KEY = "capture-key-0001"
# C0 + C1 + C2: where the chunk stream starts in a capture.
HANDSHAKE_BYTES = 1 + 1536 + 1536


async def record_ffmpeg_publish() -> bytes:
    broadcasts = Broadcasts(keys={CAPTURE_KEY: "capture"})
    recorded = bytearray()

    async def relay(reader, writer, record: bool) -> None:
        while data := await reader.read(65536):
            if record:
                recorded.extend(data)
            writer.write(data)
            await writer.drain()
        writer.close()

    async def proxy(client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.gather(
            relay(client_reader, server_writer, record=True),
            relay(server_reader, client_writer, record=False),
            return_exceptions=True,
        )

    async with running_server(broadcasts) as server:
        proxy_server = await asyncio.start_server(proxy, "127.0.0.1", 0)
        port = proxy_server.sockets[0].getsockname()[1]
        url = f"rtmp://127.0.0.1:{port}/live/{CAPTURE_KEY}"
        run = await run_client(ffmpeg_publish(url, seconds=1, size="160x120", realtime=False))
        proxy_server.close()
    if run.returncode != 0:
        raise RuntimeError(f"ffmpeg failed while recording: {run.output}")
    return bytes(recorded)


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CAPTURE_PATH
    target.write_bytes(asyncio.run(record_ffmpeg_publish()))
    print(f"wrote {target.stat().st_size} bytes to {target}")


if __name__ == "__main__":
    main()
