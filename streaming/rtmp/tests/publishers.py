"""Real RTMP clients for the tests: the ffmpeg CLI and GStreamer's two RTMP sinks.

Every command is bounded (`-t`, `num-buffers`) and every run has a timeout, so a broken
server fails a test instead of hanging it. A missing binary raises, so media tests fail
rather than skip on a machine without ffmpeg or GStreamer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class ClientRun:
    returncode: int
    output: str


def ffmpeg_publish(
    url: str, seconds: float = 3.0, size: str = "640x360", realtime: bool = True
) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        *(["-re"] if realtime else []),
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "30",
        "-c:a", "aac",
        "-f", "flv", url,
    ]  # fmt: skip


def gstreamer_publish(
    sink: str, seconds: float = 3.0, size: tuple[int, int] = (640, 360)
) -> list[str]:
    """A live 30 fps test pattern with AAC audio, muxed to FLV and sent to `sink`."""
    frames = int(seconds * 30)
    width, height = size
    pipeline = (
        f"videotestsrc is-live=true num-buffers={frames} "
        f"! video/x-raw,width={width},height={height},framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 "
        "! video/x-h264,profile=baseline ! queue "
        f"! flvmux name=mux streamable=true ! queue ! {sink} "
        # 1470 samples at 44.1 kHz is 1/30 s, so audio ends with the video.
        f"audiotestsrc is-live=true num-buffers={frames} samplesperbuffer=1470 "
        "! audioconvert ! audioresample ! voaacenc ! queue ! mux."
    )
    return ["gst-launch-1.0", "-q", *pipeline.split()]


def rtmp2sink(url: str) -> str:
    return f"rtmp2sink location={url}"


def rtmpsink(url: str) -> str:
    # librtmp's option syntax, as OBS uses it; the quotes keep it one property value.
    return f"rtmpsink location='{url} live=1'"


async def run_client(command: list[str], timeout: float = 30.0) -> ClientRun:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(timeout):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{command[0]} did not finish within {timeout} s") from None
    return ClientRun(process.returncode or 0, output.decode(errors="replace"))
