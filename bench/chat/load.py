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

The generator must not be what is measured: real viewers are on other machines,
and every microsecond it spends on a frame is queueing delay added to the
latency of the frames behind it. So the sockets are picows (Cython framing, one
callback a frame, no task or async iterator per socket) on uvloop, and a frame's
bytes are parsed once per process, not once per viewer: every viewer gets the
same bytes for a message (senders too: each gets every message). With `websockets`
on asyncio a viewer process spent about 106 µs of CPU per frame (at 2,000 viewers,
~20,000 frames/s: more than its core, so the p99 included the generator's own
backlog); now about 31 µs, of which some 16 µs is the kernel and the event loop
reading the socket. One run each of `--scenarios c --steps 500 --pin` on the
2-core VM, from the first send to the last delivery: viewer process CPU 9.8 -> 2.6 s
(49 -> 13 µs per delivery), all generator processes 11.4 -> 3.1 s.
"""

import asyncio
import contextlib
import json
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import uvloop
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

CONNECT_ATTEMPTS = 3
OPEN_TIMEOUT = 60  # seconds for the TCP connect and the handshake together
LATENCY_BINS_PER_SECOND = 10_000  # histogram resolution: 0.1 ms
LAG_PROBE_INTERVAL = 0.05
FILLER = "the quick brown fox jumps over the lazy dog while the stream goes on"
TEXT_LENGTH = 80  # about a typical chat line
PARSED_FRAMES_KEPT = 4096  # frames remembered parsed; a chat message reaches all in ms
TEXT, CONTINUATION, CLOSE = WSMsgType.TEXT, WSMsgType.CONTINUATION, WSMsgType.CLOSE
# The close codes after which the `websockets` client this replaced ended its
# `async for` quietly, counted as "closed by the server". picows reads a close frame
# without a code as NO_INFO (0) where websockets said 1005.
NORMAL_CLOSE_CODES = frozenset({1000, 1001, 1005, 0})


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


def chat_messages(frame_text: bytes | str) -> list[dict]:
    """The chat.message events in a frame, `batch` frames unwrapped."""
    frame = json.loads(frame_text)
    events = frame.get("events", ()) if frame.get("type") == "batch" else (frame,)
    return [event for event in events if event.get("type") == "chat.message"]


def room_url(port: int, slug: str) -> str:
    return f"ws://127.0.0.1:{port}/ws/rooms/{slug}/"


async def open_socket(
    port: int,
    slug: str,
    listener_factory: Callable[..., "RoomSocket"],
    session_id: str | None = None,
) -> tuple[WSTransport, "RoomSocket"]:
    """A socket to the room with the page's Origin (the server checks it), signed in by
    `session_id`'s cookie when given; retried on connection errors and timeouts."""
    headers = {"Origin": f"http://127.0.0.1:{port}"}
    if session_id:
        headers["Cookie"] = f"sessionid={session_id}"
    last_error: Exception | None = None
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            async with asyncio.timeout(OPEN_TIMEOUT):
                transport, listener = await ws_connect(
                    listener_factory,
                    room_url(port, slug),
                    extra_headers=headers,
                    websocket_handshake_timeout=OPEN_TIMEOUT,
                    enable_auto_ping=False,  # no keepalive pings; picows answers the server's
                    max_frame_size=sys.maxsize,
                )
            if listener is None:  # picows returns no listener when the peer hung up first
                raise ConnectionError("the connection closed during the handshake")
            return transport, listener
        except (OSError, TimeoutError) as error:
            last_error = error
            await asyncio.sleep(0.5 * (attempt + 1))
    raise ConnectionError(f"could not open a socket on port {port}: {last_error}")


class RoomSocket(WSListener):
    """One socket's frames as callbacks on the loop: whole text messages go to `on_text`.

    Daphne sends each message in one frame; fragmented ones are put together anyway.
    A close frame is answered with its code, as browsers do, and the socket hung up.
    """

    def __init__(self):
        super().__init__()
        self.fragments: list[bytes] | None = None  # a fragmented message's frames so far
        self.fragments_are_text = False
        self.close_noted = False

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is TEXT and frame.fin:  # nearly every frame
            self.on_text(frame.get_payload_as_bytes())
        else:
            self.on_other_frame(transport, frame)

    def on_other_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type is CLOSE:
            code = frame.get_close_code()
            self.note_close("closed by the server" if code in NORMAL_CLOSE_CODES else int(code))
            transport.send_close(WSCloseCode.OK if code == WSCloseCode.NO_INFO else code)
            transport.disconnect()
        elif msg_type is CONTINUATION:
            if self.fragments is None:
                raise RuntimeError("a continuation frame with no message to continue")
            self.fragments.append(frame.get_payload_as_bytes())
            if frame.fin:
                payload, self.fragments = b"".join(self.fragments), None
                if self.fragments_are_text:
                    self.on_text(payload)
        elif not frame.fin:  # the first frame of a fragmented text or binary message
            self.on_fragmented()
            self.fragments = [frame.get_payload_as_bytes()]
            self.fragments_are_text = msg_type is TEXT
        # Binary messages and pongs are ignored; picows answers pings itself.

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.note_close(None)  # without a close frame: the connection dropped, or abort()

    def note_close(self, code: int | str | None) -> None:
        if not self.close_noted:
            self.close_noted = True
            self.on_close(code)

    def on_text(self, payload: bytes) -> None:
        raise NotImplementedError

    def on_close(self, code: int | str | None) -> None:
        pass

    def on_fragmented(self) -> None:
        pass


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


async def open_all(
    targets: list[tuple[int, str | None]],
    slug: str,
    concurrency: int,
    factory_for: Callable[[int], Callable[..., RoomSocket]],
):
    """Open one socket per (port, session id), `concurrency` handshakes at a time;
    `factory_for(k)` is the picows listener factory of target k."""
    gate = asyncio.Semaphore(concurrency)

    async def one(k: int, port: int, session_id: str | None):
        async with gate:
            return await open_socket(port, slug, factory_for(k), session_id)

    results = await asyncio.gather(
        *(one(k, p, s) for k, (p, s) in enumerate(targets)), return_exceptions=True
    )
    opened = [r if not isinstance(r, BaseException) else None for r in results]
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return opened, errors


def factory_of(make: Callable[[], RoomSocket]) -> Callable[..., RoomSocket]:
    """picows calls a client's factory with (request, response); it retries one that
    raises TypeError with no arguments, which would hide our own TypeErrors."""

    def factory(_request, _response) -> RoomSocket:
        return make()

    return factory


class ViewerSocket(RoomSocket):
    """An anonymous viewer: counts this phase's messages and their delivery times."""

    def __init__(self, viewers: "Viewers"):
        super().__init__()
        self.viewers = viewers
        self.mark = viewers.mark
        self.seen = bytearray(viewers.total)  # deliveries of each token, up to 255
        self.distinct = 0

    def on_text(self, payload: bytes) -> None:
        if self.mark in payload:
            self.viewers.on_message(self, payload)

    def on_close(self, code: int | str | None) -> None:
        self.viewers.closed[str(code)] += 1

    def on_fragmented(self) -> None:
        self.viewers.fragmented += 1


class Viewers:
    """Anonymous sockets that only read, recording each message's delivery."""

    def __init__(self, config: dict):
        self.config = config
        self.phase = config["phase"]
        self.mark = f"bench {config['phase']} ".encode()
        self.total = config["total"]
        self.sockets: list[WSTransport] = []
        self.viewers: list[ViewerSocket] = []
        self.histogram: Counter[int] = Counter()
        # Split by the server's stamp (`ts`, taken when it gave the message its id):
        # time before it (read, parse, screen, rate check), after it (store, publish, fan-out).
        self.after_stamp: Counter[int] = Counter()
        self.before_stamp: dict[int, float] = {}
        self.closed: Counter[str] = Counter()
        # Every viewer gets the same bytes for a message: parse them once, not once a viewer.
        self.parsed: dict[bytes, list[tuple[int, float, float]]] = {}
        self.fragmented = 0

    async def open(self) -> dict:
        ports, first = self.config["ports"], self.config["first_index"]
        count = self.config["count"]
        targets = [(ports[(first + i) % len(ports)], None) for i in range(count)]
        opened, errors = await open_all(
            targets,
            self.config["slug"],
            self.config["concurrency"],
            lambda _k: factory_of(lambda: ViewerSocket(self)),
        )
        opened = [pair for pair in opened if pair is not None]
        self.sockets = [transport for transport, _ in opened]
        self.viewers = [viewer for _, viewer in opened]
        return {"connected": len(self.sockets), "failed": len(errors), "errors": errors[:3]}

    def parse(self, payload: bytes) -> list[tuple[int, float, float]]:
        """(token, send time, server stamp) of each of this phase's messages in a frame."""
        messages = []
        for event in chat_messages(payload):
            _, phase, token, sent, _ = event["text"].split(" ", 4)
            if phase != self.phase:
                continue
            token, sent, stamped = int(token), float(sent), event["ts"] / 1000
            self.before_stamp.setdefault(token, stamped - sent)
            messages.append((token, sent, stamped))
        if len(self.parsed) >= PARSED_FRAMES_KEPT:
            self.parsed.clear()
        self.parsed[payload] = messages
        return messages

    def on_message(self, viewer: ViewerSocket, payload: bytes) -> None:
        now = time.time()
        messages = self.parsed.get(payload)
        if messages is None:
            messages = self.parse(payload)
        seen = viewer.seen
        for token, sent, stamped in messages:
            count = seen[token]
            if count == 0:
                viewer.distinct += 1
                self.histogram[int((now - sent) * LATENCY_BINS_PER_SECOND)] += 1
                self.after_stamp[int((now - stamped) * LATENCY_BINS_PER_SECOND)] += 1
            if count < 255:
                seen[token] = count + 1

    async def wait_for(self, expected: list[int], deadline: float) -> None:
        """Until every socket has every expected message, or the deadline."""
        needed = len(expected)
        while time.time() < deadline:
            if all(viewer.distinct >= needed for viewer in self.viewers):
                return
            await asyncio.sleep(0.05)

    def result(self, expected: list[int]) -> dict:
        if self.fragmented:  # to the generator's log: daphne has not been seen to fragment
            print(f"{self.fragmented} fragmented messages", file=sys.stderr, flush=True)
        seens = [viewer.seen for viewer in self.viewers]
        lost_per_viewer = [sum(1 for t in expected if seen[t] == 0) for seen in seens]
        duplicates = sum(1 for seen in seens for t in expected if seen[t] > 1)
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
        for transport in self.sockets:
            transport.disconnect(graceful=False)


class SenderSocket(RoomSocket):
    """Signed-in sender k: notes the echoes of its own messages and its refusals."""

    def __init__(self, senders: "Senders", k: int):
        super().__init__()
        self.senders = senders
        self.k = k
        self.nonce_mark = f"{senders.phase}:".encode()

    def on_text(self, payload: bytes) -> None:
        # Substring tests first: most frames are other senders' messages. (The baseline
        # encodes with json.dumps' default separators, so no test may assume ours.)
        if b'"error"' in payload:
            frame = json.loads(payload)
            if frame.get("type") == "error":
                self.senders.on_error(frame, self.k)
                return
        if self.nonce_mark in payload:
            for event in self.senders.chat_messages(payload):
                self.senders.on_message(event, self.k)


class Senders:
    """Signed-in sockets that send the schedule and note acknowledgements and refusals."""

    def __init__(self, config: dict):
        self.config = config
        self.phase = config["phase"]
        self.sockets: list[WSTransport] = []
        self.acked: set[int] = set()
        self.pending: list[list[int]] = [[] for _ in config["session_ids"]]
        self.rejected: list[int] = []
        self.errors: Counter[str] = Counter()
        self.failed_sends: list[int] = []
        self.parsed: dict[bytes, list[dict]] = {}  # every sender gets every message too

    async def open(self) -> dict:
        ports = self.config["ports"]
        cookies = self.config["session_ids"]
        targets = [(ports[k % len(ports)], cookie) for k, cookie in enumerate(cookies)]
        opened, errors = await open_all(
            targets,
            self.config["slug"],
            self.config["concurrency"],
            lambda k: factory_of(lambda: SenderSocket(self, k)),
        )
        if errors:
            return {"connected": 0, "failed": len(errors), "errors": errors[:3]}
        self.sockets = [transport for transport, _ in opened]
        return {"connected": len(opened), "failed": 0, "errors": []}

    def chat_messages(self, payload: bytes) -> list[dict]:
        events = self.parsed.get(payload)
        if events is None:
            if len(self.parsed) >= PARSED_FRAMES_KEPT:
                self.parsed.clear()
            events = self.parsed[payload] = chat_messages(payload)
        return events

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
            transport = self.sockets[k]
            # A closing or closed socket sends nothing (websockets raised ConnectionClosed).
            if transport.is_disconnected or transport.is_close_frame_sent:
                self.failed_sends.append(token)
                continue
            self.pending[k].append(token)
            transport.send(TEXT, json.dumps(frame).encode())

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
        for transport in self.sockets:
            transport.disconnect(graceful=False)


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
    uvloop.run(main())
