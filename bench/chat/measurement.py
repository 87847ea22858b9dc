"""One measurement: fresh daphne processes, generator processes, a timed send, the figures.

Every measurement starts its own servers (and empties the Redis db first), so
no group member, rate bucket or socket of an earlier one is left to cost it
anything. CPU is read from /proc for the servers and the generators just
before the first message is due and again once every viewer has every message
(or the drain deadline passed): the window covers the sending and the
delivery of its backlog, not the connecting.
"""

import asyncio
import json
import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.chat.environment import Setup
from bench.chat.servers import (
    PYTHON,
    REPO,
    cpu_seconds,
    pinned,
    start_profiler,
    start_servers,
    stop_servers,
    waiting_seconds,
)

GENERATOR_CPUS: str | None = None  # --pin: `taskset -c` list for the load generators
CONNECT_CONCURRENCY = 50
SETTLE_SECONDS = 3.0  # after the last socket opens: let presence ticks and join notices pass
START_DELAY = 0.5
SENDER_GRACE = 1.0


@dataclass
class Load:
    application: str  # "ours" or "baseline"
    viewers: int
    rate: float  # messages a second, all senders together
    duration: float  # seconds of sending
    senders: int
    server_processes: int = 1
    viewers_per_generator: int = 1000
    drain: float = 10.0  # seconds after the last send before a missing message counts as lost


@dataclass
class Result:
    load: Load
    connected: int = 0
    connect_failures: int = 0
    sent: int = 0
    rejected: int = 0
    acked: int = 0
    sender_errors: dict = field(default_factory=dict)
    deliveries: int = 0
    lost: int = 0
    viewers_with_loss: int = 0
    max_lost_by_one_viewer: int = 0
    duplicates: int = 0
    closed: Counter = field(default_factory=Counter)
    histogram: Counter = field(default_factory=Counter)
    after_stamp: Counter = field(default_factory=Counter)  # delivery minus the server's `ts`
    before_stamp: dict = field(default_factory=dict)  # token -> server's `ts` minus send time
    window: float = 0.0
    server_cpu: float = 0.0
    server_waiting: float = 0.0
    generator_cpu: float = 0.0
    generator_waiting: float = 0.0
    generator_lag_p99_ms: float = 0.0
    servers_alive: bool = True
    load_average: float = 0.0  # the machine's 1-minute load average as sending began
    generator_processes: int = 0
    server_logs: list[str] = field(default_factory=list)


class Generator:
    """A `bench.chat.load` process and its line-by-line JSON conversation."""

    def __init__(self, process: asyncio.subprocess.Process, name: str):
        self.process = process
        self.name = name

    @classmethod
    async def spawn(cls, config: dict, setup: Setup, name: str) -> "Generator":
        log = (setup.log_dir / f"generator-{name}.log").open("a")
        process = await asyncio.create_subprocess_exec(
            *pinned([str(PYTHON), "-m", "bench.chat.load"], GENERATOR_CPUS),
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            limit=1 << 26,  # a result line carries a latency histogram
        )
        log.close()
        generator = cls(process, name)
        await generator.tell(config)
        return generator

    @property
    def pid(self) -> int:
        return self.process.pid

    async def tell(self, message: dict) -> None:
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        await self.process.stdin.drain()

    async def hear(self, event: str, timeout: float) -> dict:
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"generator {self.name} exited (see its log)")
        message = json.loads(line)
        if message.get("event") != event:
            raise RuntimeError(f"generator {self.name}: expected {event!r}, got {message!r}")
        return message

    async def close(self) -> None:
        if self.process.returncode is None:
            try:
                await self.tell({"command": "stop"})
                self.process.stdin.close()
                await asyncio.wait_for(self.process.wait(), 10)
            except (TimeoutError, OSError, RuntimeError):
                self.process.kill()
                await self.process.wait()


def viewer_shares(viewers: int, per_generator: int) -> list[int]:
    processes = max(1, -(-viewers // per_generator))
    base, extra = divmod(viewers, processes)
    return [base + (1 if index < extra else 0) for index in range(processes)]


async def measure(load: Load, setup: Setup, profile_dir: Path | None = None) -> Result:
    """Measure `load`; with `profile_dir`, py-spy samples each server while it is sent."""
    setup.flush_redis()
    servers = start_servers(load.application, load.server_processes, setup.env, setup.log_dir)
    run = Measurement(load, setup, servers)
    try:
        await run.spawn_generators()
        await run.connect()
        await run.send(profile_dir)
        await run.finish()
        return run.result
    finally:
        for generator in run.generators:
            await generator.close()
        stop_servers(servers)


class Measurement:
    """The steps of one measurement, each a method; `result` fills as they run."""

    def __init__(self, load: Load, setup: Setup, servers):
        if load.senders > len(setup.session_ids):
            raise ValueError(f"{load.senders} senders but {len(setup.session_ids)} seeded")
        self.load, self.setup, self.servers = load, setup, servers
        self.result = Result(load)
        self.phase = secrets.token_hex(3)
        self.senders: Generator | None = None
        self.viewers: list[Generator] = []
        self.generators: list[Generator] = []

    async def spawn_generators(self) -> None:
        load = self.load
        common = {
            "phase": self.phase,
            "slug": self.setup.slug,
            "ports": [server.port for server in self.servers],
            "total": int(load.rate * load.duration),
            "concurrency": CONNECT_CONCURRENCY,
        }
        sender_config = {
            **common,
            "role": "senders",
            "session_ids": self.setup.session_ids[: load.senders],
            "rate": load.rate,
            "grace": SENDER_GRACE,
        }
        name = load.application
        self.senders = await Generator.spawn(sender_config, self.setup, f"{name}-senders")
        self.generators.append(self.senders)
        first = 0
        for number, count in enumerate(viewer_shares(load.viewers, load.viewers_per_generator)):
            config = {**common, "role": "viewers", "count": count, "first_index": first}
            viewer = await Generator.spawn(config, self.setup, f"{name}-viewers{number}")
            self.viewers.append(viewer)
            self.generators.append(viewer)
            first += count
        self.result.generator_processes = len(self.generators)

    async def connect(self) -> None:
        ready = await asyncio.gather(*(g.hear("ready", 600) for g in self.generators))
        if ready[0]["failed"]:
            raise RuntimeError(f"senders could not connect: {ready[0]['errors']}")
        self.result.connected = sum(r["connected"] for r in ready[1:])
        self.result.connect_failures = sum(r["failed"] for r in ready[1:])
        await asyncio.sleep(SETTLE_SECONDS)

    def _read_clocks(self) -> tuple[list[float], list[float]]:
        """CPU seconds and seconds waiting for a core: (servers, generators) each."""
        pids = [s.pid for s in self.servers], [g.pid for g in self.generators]
        cpu = [sum(cpu_seconds(pid) for pid in group) for group in pids]
        waiting = [sum(waiting_seconds(pid) for pid in group) for group in pids]
        return cpu, waiting

    async def send(self, profile_dir: Path | None) -> None:
        """From the first send until every viewer has every message or the deadline passed."""
        load, result = self.load, self.result
        cpu_before, waiting_before = self._read_clocks()
        result.load_average = os.getloadavg()[0]
        started = time.monotonic()
        at = time.time() + START_DELAY
        for generator in self.generators:
            await generator.tell({"command": "go", "at": at})
        profilers = [
            start_profiler(s.pid, load.duration, profile_dir / f"{s.application}-{s.port}.txt")
            for s in self.servers
            if profile_dir
        ]
        self.sent = await self.senders.hear("sent", load.duration + 120)
        expected = sorted(set(self.sent["sent"]) - set(self.sent["rejected"]))
        deadline = time.time() + load.drain
        for generator in self.viewers:
            await generator.tell({"command": "expect", "tokens": expected, "deadline": deadline})
        self.outcomes = await asyncio.gather(
            *(g.hear("result", load.drain + 120) for g in self.viewers)
        )
        cpu_after, waiting_after = self._read_clocks()
        result.window = time.monotonic() - started
        result.server_cpu = cpu_after[0] - cpu_before[0]
        result.generator_cpu = cpu_after[1] - cpu_before[1]
        result.server_waiting = waiting_after[0] - waiting_before[0]
        result.generator_waiting = waiting_after[1] - waiting_before[1]
        for profiler in profilers:
            profiler.wait()

    async def finish(self) -> None:
        result = self.result
        result.servers_alive = all(s.process.poll() is None for s in self.servers)
        result.sent, result.rejected = len(self.sent["sent"]), len(self.sent["rejected"])
        result.sender_errors = self.sent["errors"]
        for outcome in self.outcomes:
            add_viewer_outcome(result, outcome)
        await self.senders.tell({"command": "stop"})
        result.acked = (await self.senders.hear("stopped", 30))["acked"]
        result.server_logs = [s.log_tail() for s in self.servers]


def add_viewer_outcome(result: Result, outcome: dict) -> None:
    result.deliveries += outcome["deliveries"]
    result.lost += outcome["lost"]
    result.viewers_with_loss += outcome["viewers_with_loss"]
    result.max_lost_by_one_viewer = max(
        result.max_lost_by_one_viewer, outcome["max_lost_by_one_viewer"]
    )
    result.duplicates += outcome["duplicates"]
    result.closed.update(outcome["closed"])
    result.histogram.update({int(k): v for k, v in outcome["histogram"].items()})
    result.after_stamp.update({int(k): v for k, v in outcome["after_stamp"].items()})
    result.before_stamp.update({int(k): v for k, v in outcome["before_stamp"].items()})
    result.generator_lag_p99_ms = max(result.generator_lag_p99_ms, outcome["lag_p99_ms"])
