"""One load-generator process: viewer sockets or sender sockets in the benchmark's room.

bench/chat_load.py spawns several of these (`python -m bench.chat.load`), so that
reading tens of thousands of frames a second is spread over both cores, and
talks to each over stdin and stdout, one JSON object a line:

    in:  {"role": "viewers" | "senders", ...}                  the configuration
    out: {"event": "ready", "connected": n, "failed": k}
    in:  {"command": "go", "at": <unix time>}
    out: {"event": "sent", ...}                               senders, after the last send
    in:  {"command": "expect", "tokens": [...], "deadline": <unix time>}   viewers
    out: {"event": "result", ...}                             viewers
    in:  {"command": "stop"}

Message `token` is its index in the send schedule: message t is due at
`at + t / rate` and is sent by sender `t % senders`. Its text carries the token
and the time it was sent, so a viewer times a delivery from the frame alone
(every process reads the same clock). Viewers unwrap `batch` frames and ignore
messages of other phases (the history a socket gets on joining).
"""

import asyncio
import contextlib
import json
import resource
import sys
import threading
import time
from collections import Counter

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

CONNECT_ATTEMPTS = 3
LATENCY_BINS_PER_SECOND = 10_000  # histogram resolution: 0.1 ms
LAG_PROBE_INTERVAL = 0.05
FILLER = "the quick brown fox jumps over the lazy dog while the stream goes on"
TEXT_LENGTH = 80  # about a typical chat line


def emit(event: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def message_text(phase: str, token: int) -> str:
    head = f"bench {phase} {token} {time.time():.6f} "
    return head + FILLER[: max(0, TEXT_LENGTH - len(head))]


def chat_messages(frame_text: str) -> list[dict]:
    """The chat.message events in a frame, `batch` frames unwrapped."""
    frame = json.loads(frame_text)
    events = frame.get("events", ()) if frame.get("type") == "batch" else (frame,)
    return [event for event in events if event.get("type") == "chat.message"]


async def open_socket(port: int, slug: str, session_id: str | None = None):
    headers = {"Cookie": f"sessionid={session_id}"} if session_id else None
    last_error: Exception | None = None
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return await connect(
                f"ws://127.0.0.1:{port}/ws/rooms/{slug}/",
                origin=Origin(f"http://127.0.0.1:{port}"),
                additional_headers=headers,
                compression=None,  # browsers offer deflate; daphne declines it anyway
                ping_interval=None,
                proxy=None,
                open_timeout=60,
                close_timeout=1,
                max_size=None,
            )
        except (OSError, TimeoutError, ConnectionClosed) as error:
            last_error = error
            await asyncio.sleep(0.5 * (attempt + 1))
    raise ConnectionError(f"could not open a socket on port {port}: {last_error}")


class Control:
    """Commands from the orchestrator, read on a thread so the event loop never blocks."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.loop = loop
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in sys.stdin:
            if line.strip():
                self.loop.call_soon_threadsafe(self.queue.put_nowait, json.loads(line))
        # The orchestrator went away: stop rather than linger with open sockets.
        self.loop.call_soon_threadsafe(self.queue.put_nowait, {"command": "stop"})

    async def wait_for(self, command: str) -> dict:
        message = await self.queue.get()
        if message.get("command") == "stop" and command != "stop":
            raise SystemExit(0)
        if message.get("command") != command:
            raise RuntimeError(f"expected {command!r}, got {message!r}")
        return message


class LoopLag:
    """How late this process's event loop runs a timer: a loaded generator inflates latency."""

    def __init__(self):
        self.samples: list[float] = []
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._probe())

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PROBE_INTERVAL
            await asyncio.sleep(LAG_PROBE_INTERVAL)
            self.samples.append(loop.time() - due)

    def summary(self) -> dict:
        if self.task:
            self.task.cancel()
        ordered = sorted(self.samples) or [0.0]
        return {
            "lag_p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
            "lag_max_ms": round(ordered[-1] * 1000, 1),
        }


async def open_all(targets: list[tuple[int, str | None]], slug: str, concurrency: int):
    """Open one socket per (port, session id), `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(port: int, session_id: str | None):
        async with gate:
            return await open_socket(port, slug, session_id)

    results = await asyncio.gather(*(one(p, s) for p, s in targets), return_exceptions=True)
    opened = [r if not isinstance(r, BaseException) else None for r in results]
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return opened, errors


class Viewers:
    """Anonymous sockets that only read, recording each message's delivery."""

    def __init__(self, config: dict):
        self.config = config
        self.phase = config["phase"]
        self.mark = f"bench {config['phase']} "
        self.total = config["total"]
        self.sockets: list = []
        self.tasks: list[asyncio.Task] = []
        self.seen: list[bytearray] = []
        self.distinct: list[int] = []
        self.histogram: Counter[int] = Counter()
        # Split by the server's stamp (`ts`, taken when it gave the message its id):
        # time before it (read, parse, screen, rate check), after it (store, publish, fan-out).
        self.after_stamp: Counter[int] = Counter()
        self.before_stamp: dict[int, float] = {}
        self.closed: Counter[str] = Counter()

    async def open(self) -> dict:
        ports, first = self.config["ports"], self.config["first_index"]
        count = self.config["count"]
        targets = [(ports[(first + i) % len(ports)], None) for i in range(count)]
        opened, errors = await open_all(targets, self.config["slug"], self.config["concurrency"])
        self.sockets = [ws for ws in opened if ws is not None]
        self.seen = [bytearray(self.total) for _ in self.sockets]
        self.distinct = [0] * len(self.sockets)
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self.watch(ws, i)) for i, ws in enumerate(self.sockets)]
        return {"connected": len(self.sockets), "failed": len(errors), "errors": errors[:3]}

    async def watch(self, ws, index: int) -> None:
        try:
            async for text in ws:
                self.on_text(index, text)
        except ConnectionClosed as closed:
            self.on_close(closed.rcvd.code if closed.rcvd else None)
            return
        self.on_close("closed by the server")

    def on_text(self, index: int, text: str) -> None:
        if self.mark not in text:
            return
        now = time.time()
        seen = self.seen[index]
        for event in chat_messages(text):
            _, phase, token, sent, _ = event["text"].split(" ", 4)
            if phase != self.phase:
                continue
            token = int(token)
            if seen[token] == 0:
                self.distinct[index] += 1
                self.histogram[int((now - float(sent)) * LATENCY_BINS_PER_SECOND)] += 1
                stamped = event["ts"] / 1000
                self.after_stamp[int((now - stamped) * LATENCY_BINS_PER_SECOND)] += 1
                if token not in self.before_stamp:
                    self.before_stamp[token] = stamped - float(sent)
            if seen[token] < 255:
                seen[token] += 1

    def on_close(self, code: int | str | None) -> None:
        self.closed[str(code)] += 1

    async def wait_for(self, expected: list[int], deadline: float) -> None:
        """Until every socket has every expected message, or the deadline."""
        needed = len(expected)
        while time.time() < deadline:
            if all(count >= needed for count in self.distinct):
                return
            await asyncio.sleep(0.05)

    def result(self, expected: list[int]) -> dict:
        lost_per_viewer = [sum(1 for t in expected if seen[t] == 0) for seen in self.seen]
        duplicates = sum(1 for seen in self.seen for t in expected if seen[t] > 1)
        return {
            "viewers": len(self.sockets),
            "deliveries": len(self.sockets) * len(expected) - sum(lost_per_viewer),
            "lost": sum(lost_per_viewer),
            "viewers_with_loss": sum(1 for lost in lost_per_viewer if lost),
            "max_lost_by_one_viewer": max(lost_per_viewer, default=0),
            "duplicates": duplicates,
            "closed": dict(self.closed),
            "histogram": {str(k): v for k, v in self.histogram.items()},
            "after_stamp": {str(k): v for k, v in self.after_stamp.items()},
            "before_stamp": {str(k): v for k, v in self.before_stamp.items()},
        }

    def abort(self) -> None:
        for ws in self.sockets:
            ws.transport.abort()


class Senders:
    """Signed-in sockets that send the schedule and note acknowledgements and refusals."""

    def __init__(self, config: dict):
        self.config = config
        self.phase = config["phase"]
        self.sockets: list = []
        self.acked: set[int] = set()
        self.pending: list[list[int]] = []
        self.rejected: list[int] = []
        self.errors: Counter[str] = Counter()
        self.failed_sends: list[int] = []
        self.tasks: list[asyncio.Task] = []

    async def open(self) -> dict:
        ports = self.config["ports"]
        cookies = self.config["session_ids"]
        targets = [(ports[k % len(ports)], cookie) for k, cookie in enumerate(cookies)]
        opened, errors = await open_all(targets, self.config["slug"], self.config["concurrency"])
        if errors:
            return {"connected": 0, "failed": len(errors), "errors": errors[:3]}
        self.sockets = opened
        self.pending = [[] for _ in opened]
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self.read(ws, k)) for k, ws in enumerate(opened)]
        return {"connected": len(opened), "failed": 0, "errors": []}

    async def read(self, ws, k: int) -> None:
        # Substring tests first: most frames are other senders' messages. (The baseline
        # encodes with json.dumps' default separators, so no test may assume ours.)
        nonce_mark = f"{self.phase}:"
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                if '"error"' in text:
                    frame = json.loads(text)
                    if frame.get("type") == "error":
                        self.on_error(frame, k)
                        continue
                if nonce_mark in text:
                    for event in chat_messages(text):
                        self.on_message(event, k)

    def on_message(self, event: dict, k: int) -> None:
        phase, _, token = (event.get("nonce") or "").partition(":")
        if phase != self.phase:
            return
        token = int(token)
        if token % len(self.sockets) == k:
            self.acked.add(token)
            with contextlib.suppress(ValueError):
                self.pending[k].remove(token)

    def on_error(self, frame: dict, k: int) -> None:
        # A refusal carries no nonce; a socket's frames are handled in order, so it is
        # the refusal of that socket's oldest message still waiting for its echo.
        self.errors[frame.get("code", "?")] += 1
        if self.pending[k]:
            self.rejected.append(self.pending[k].pop(0))

    async def send_schedule(self, at: float) -> None:
        rate, total, count = self.config["rate"], self.config["total"], len(self.sockets)
        for token in range(total):
            delay = at + token / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            k = token % count
            frame = {
                "type": "chat.send",
                "text": message_text(self.phase, token),
                "nonce": f"{self.phase}:{token}",
            }
            self.pending[k].append(token)
            try:
                await self.sockets[k].send(json.dumps(frame))
            except ConnectionClosed:
                self.pending[k].remove(token)
                self.failed_sends.append(token)

    def result(self) -> dict:
        failed = set(self.failed_sends)
        sent = [t for t in range(self.config["total"]) if t not in failed]
        return {
            "sent": sent,
            "rejected": sorted(self.rejected),
            "acked": len(self.acked),
            "errors": dict(self.errors),
            "failed_sends": len(self.failed_sends),
        }

    def abort(self) -> None:
        for ws in self.sockets:
            ws.transport.abort()


async def run_viewers(control: Control, config: dict) -> None:
    viewers = Viewers(config)
    emit("ready", **await viewers.open())
    await control.wait_for("go")
    lag = LoopLag()
    lag.start()
    expect = await control.wait_for("expect")
    await viewers.wait_for(expect["tokens"], expect["deadline"])
    emit("result", **viewers.result(expect["tokens"]), **lag.summary())
    await control.wait_for("stop")
    viewers.abort()


async def run_senders(control: Control, config: dict) -> None:
    senders = Senders(config)
    emit("ready", **await senders.open())
    go = await control.wait_for("go")
    await senders.send_schedule(go["at"])
    await asyncio.sleep(config["grace"])  # lets refusals of the last sends arrive
    emit("sent", **senders.result())
    await control.wait_for("stop")
    emit("stopped", acked=len(senders.acked), errors=dict(senders.errors))
    senders.abort()


async def main() -> None:
    raise_open_file_limit()
    control = Control(asyncio.get_running_loop())
    config = await control.queue.get()  # the first line is the configuration
    if config["role"] == "viewers":
        await run_viewers(control, config)
    else:
        await run_senders(control, config)


if __name__ == "__main__":
    asyncio.run(main())
