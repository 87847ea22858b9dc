"""One transcoder child process: FLV (RTMP) or Matroska (WHIP) into its stdin, JSON
events out of its stdout.

Writes wait for the pipe to drain, so a transcoder that falls behind slows down reading
from its own publisher (TCP backpressure up to OBS) and nothing else; a transcoder that
stops reading entirely for `stall_timeout` is killed and counts as a crash.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from streaming.transcoder.realtime_output import RECORD_HEADER, read_record_header

logger = logging.getLogger("livesite.ingest")

REALTIME_FD_PLACEHOLDER = "{realtime-fd}"

STDERR_LINES_KEPT = 20


class TranscoderGone(Exception):
    """The process exited or stalled; `TranscoderProcess.exit` says why."""


@dataclass(frozen=True)
class TranscoderSettings:
    segment_seconds: int = 2
    part_seconds: float = 0.333
    ladder: str = "720,480,360"
    preset: str = "veryfast"
    keep_recording: bool = True  # for the replay (streaming/replays.py)
    max_recording_seconds: int = 0  # 0: the whole stream

    def argv(
        self,
        output: Path,
        discontinuity: bool,
        input_format: str = "flv",
        realtime_fd: int | str | None = None,
        continue_after: tuple[int, int] | None = None,
    ) -> list[str]:
        argv = [
            sys.executable, "-m", "streaming.transcoder", "--output", str(output),
            "--input-format", input_format,
            "--segment-seconds", str(self.segment_seconds),
            "--part-seconds", str(self.part_seconds),
            "--ladder", self.ladder, "--preset", self.preset,
        ]  # fmt: skip
        if self.keep_recording:
            argv += ["--keep-recording", "--max-recording-seconds", str(self.max_recording_seconds)]
        if realtime_fd is not None:
            argv += ["--realtime-fd", str(realtime_fd)]
        if continue_after is not None:
            argv += ["--continue-after", "{}:{}".format(*continue_after)]
        return argv + (["--discontinuity"] if discontinuity else [])


@dataclass
class TranscoderExit:
    """Why a transcoder ended: its exit status, last `ended` event, last stderr lines."""

    returncode: int | None
    ended: dict | None
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and bool(self.ended)

    def describe(self) -> str:
        reason = (self.ended or {}).get("reason", "no ended event")
        return f"exit status {self.returncode}, {reason}"


class TranscoderProcess:
    """`argv` may hold `REALTIME_FD_PLACEHOLDER`; with `on_realtime`, it becomes the
    write end of a pipe whose records (streaming/transcoder/realtime_output.py) are
    handed to `on_realtime(keyframe, pts, data)`."""

    def __init__(
        self, argv: list[str], stall_timeout: float = 10.0, on_event=None, on_realtime=None
    ) -> None:
        self.argv = argv
        self.on_realtime = on_realtime
        self.stall_timeout = stall_timeout
        self.on_event = on_event or (lambda event: None)
        self.exit: TranscoderExit | None = None
        self.last_health: dict | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._ended: dict | None = None
        self._stderr = collections.deque(maxlen=STDERR_LINES_KEPT)
        self._readers: list[asyncio.Task] = []

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        argv, pass_fds, realtime_reader = self.argv, (), None
        if self.on_realtime is not None:
            read_end, write_end = os.pipe()
            argv = [str(write_end) if a == REALTIME_FD_PLACEHOLDER else a for a in argv]
            pass_fds = (write_end,)
            realtime_reader, realtime_pipe = await _pipe_reader(read_end)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=pass_fds,
            )
        except BaseException:
            if realtime_reader is not None:
                realtime_pipe.close()  # no child will ever write to it
            raise
        finally:
            for fd in pass_fds:
                os.close(fd)  # the child has its copy; EOF reaches us when it exits
        self._readers = [
            asyncio.create_task(self._read_events()),
            asyncio.create_task(self._read_stderr()),
        ]
        if realtime_reader is not None:
            self._readers.append(asyncio.create_task(self._read_realtime(realtime_reader)))

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def write(self, data: bytes) -> None:
        if not self.running:
            if self._process is not None:
                await self.wait()
            raise TranscoderGone
        try:
            self._process.stdin.write(data)
            async with asyncio.timeout(self.stall_timeout):
                await self._process.stdin.drain()
        except TimeoutError:
            logger.warning("transcoder pid=%s stalled; killing it", self.pid)
            await self.kill()
            raise TranscoderGone from None
        except (BrokenPipeError, ConnectionResetError):
            await self.wait()
            raise TranscoderGone from None

    async def finish(self, timeout: float = 15.0) -> TranscoderExit:
        """End of input: close stdin and let it finish its last segment."""
        if self._process is None:
            return TranscoderExit(None, None)
        if self._process.stdin and not self._process.stdin.is_closing():
            self._process.stdin.close()
        try:
            async with asyncio.timeout(timeout):
                return await self.wait()
        except TimeoutError:
            return await self.kill()

    async def kill(self) -> TranscoderExit:
        if self.running:
            self._process.kill()
        return await self.wait()

    async def wait(self) -> TranscoderExit:
        await self._process.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self.exit = TranscoderExit(self._process.returncode, self._ended, list(self._stderr))
        return self.exit

    async def _read_events(self) -> None:
        async for line in self._process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "ended":
                self._ended = event
            elif event.get("event") == "health":
                self.last_health = event
            self.on_event(event)

    async def _read_realtime(self, reader: asyncio.StreamReader) -> None:
        """Drain the pipe until the transcoder exits, whatever the handler does: a reader
        that stopped would let the pipe fill and block the transcoder, HLS and all."""
        failures = 0
        try:
            while True:
                header = await reader.readexactly(RECORD_HEADER.size)
                keyframe, length, pts = read_record_header(header)
                data = await reader.readexactly(length)
                try:
                    self.on_realtime(keyframe, pts, data)
                except Exception:
                    failures += 1
                    if failures == 1 or failures % 1000 == 0:  # not a line per frame
                        logger.exception(
                            "transcoder pid=%s: real-time frame dropped (%d so far)",
                            self.pid, failures,
                        )  # fmt: skip
        except asyncio.IncompleteReadError:
            return  # the transcoder exited

    async def _read_stderr(self) -> None:
        async for line in self._process.stderr:
            text = line.decode(errors="replace").rstrip()
            self._stderr.append(text)
            logger.debug("transcoder pid=%s: %s", self.pid, text)


async def _pipe_reader(fd: int) -> tuple[asyncio.StreamReader, asyncio.ReadTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 22)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, transport
