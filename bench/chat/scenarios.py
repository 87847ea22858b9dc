"""The benchmark's scenarios and command line (bench/chat_load.py is the entry point).

a. One room, N viewers, R messages a second, one daphne process: ours, then the
   textbook consumer (bench.chat.baseline) under the same load.
b. The same room split over two daphne processes (viewers and senders
   alternate between the two ports): ours only, the cross-process path.
c. The largest room one daphne process holds: N steps up until p99 reaches
   the target or a message is lost.
x. Experiments (not run by default): ours against the variants named by
   --variants (bench/chat/variants.py), each with one proposed change, at N viewers.
"""

import argparse
import asyncio
import dataclasses
import hashlib
import json
import os
import resource
import shlex
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.chat import measurement, report, servers
from bench.chat.environment import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, prepare
from bench.chat.measurement import Load, Result, measure
from bench.chat.servers import REPO


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/chat_load.py", description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default="a,b,c", help="which of a,b,c to run")
    parser.add_argument("--viewers", type=int, default=2000, help="viewers in scenarios a and b")
    parser.add_argument("--rate", type=float, default=20, help="messages a second, all senders")
    parser.add_argument("--duration", type=float, default=20, help="seconds of sending")
    parser.add_argument("--senders", type=int, help="sender sockets (default: 2 x rate)")
    parser.add_argument("--drain", type=float, default=10, help="seconds to wait after sending")
    parser.add_argument(
        "--steps", default="250,500,1000,2000,3000,4000", help="room sizes, scenario c"
    )
    parser.add_argument("--repeat", type=int, default=1, help="run scenario a this many times")
    parser.add_argument("--viewers-per-generator", type=int, default=2000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--chat-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a CHAT_* variable for the servers, e.g. CHAT_RATE_PER_MINUTE=120 (repeatable)",
    )
    parser.add_argument(
        "--server",
        default="ours",
        help="what scenarios b and c serve: ours, or a variant of bench/chat/variants.py",
    )
    parser.add_argument(
        "--variants", default="coalescing,direct_send", help="what scenario x compares with ours"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="servers on core 0, load generators on core 1 (taskset): neither waits on the other",
    )
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="py-spy each server while sending (raw stacks)"
    )
    return parser.parse_args(argv)


def chat_settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not name.startswith("CHAT_") or not value:
            raise SystemExit(f"--chat-setting wants CHAT_NAME=VALUE, got {pair!r}")
        settings[name] = value
    return settings


def code_fingerprint() -> str:
    """A hash of the code under test: other engineers edit it while benchmarks run."""
    digest = hashlib.sha256()
    for path in sorted([*REPO.glob("chat/*.py"), *REPO.glob("livesite/*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def raise_open_file_limit() -> None:
    """Daphne inherits this: one process may hold every viewer's socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Run:
    def __init__(self, arguments: argparse.Namespace, setup):
        self.arguments = arguments
        self.setup = setup
        self.results: list[tuple[str, Result]] = []
        self.fingerprint = code_fingerprint()

    def load(self, application: str, viewers: int, processes: int = 1) -> Load:
        arguments = self.arguments
        return Load(
            application=application,
            viewers=viewers,
            rate=arguments.rate,
            duration=arguments.duration,
            senders=arguments.senders,
            server_processes=processes,
            viewers_per_generator=arguments.viewers_per_generator,
            drain=arguments.drain,
        )

    async def measure(self, scenario: str, load: Load) -> Result:
        if code_fingerprint() != self.fingerprint:
            self.fingerprint = code_fingerprint()
            print(f"**The code under test changed during the run: now {self.fingerprint}.**\n")
        started = time.monotonic()
        say(f"... {scenario}: {load.application}, {load.viewers} viewers, {load.rate:g} msg/s")
        result = await measure(load, self.setup, self.arguments.profile)
        say(report.notes(result) + f" [{time.monotonic() - started:.0f} s]")
        self.results.append((scenario, result))
        return result

    async def scenario_a(self) -> str:
        tables = []
        for attempt in range(self.arguments.repeat):
            order = ["ours", "baseline"] if attempt % 2 == 0 else ["baseline", "ours"]
            measured = {}
            for application in order:
                load = self.load(application, self.arguments.viewers)
                measured[application] = await self.measure("a", load)
            title = f"a. One room, one daphne process, ours vs baseline (run {attempt + 1})"
            results = [measured["ours"], measured["baseline"]]
            tables.append(report.table(title, results, baseline=measured["baseline"]))
        return "\n\n".join(tables)

    async def scenario_b(self) -> str:
        server = self.arguments.server
        result = await self.measure("b", self.load(server, self.arguments.viewers, processes=2))
        return report.table(f"b. One room over two daphne processes ({server})", [result])

    async def scenario_c(self) -> str:
        results, largest = [], None
        for viewers in [int(step) for step in self.arguments.steps.split(",")]:
            result = await self.measure("c", self.load(self.arguments.server, viewers))
            results.append(result)
            if not report.meets_targets(result):
                break
            largest = viewers
        verdict = (
            f"Largest room held by one daphne process at p99 < {report.P99_TARGET_MS} ms "
            f"with nothing lost: {f'{largest:,} viewers' if largest else 'none of the steps'}"
        )
        title = f"c. Largest room one daphne process holds ({self.arguments.server})"
        return report.table(title, results) + f"\n\n**{verdict}.**"

    async def scenario_x(self) -> str:
        ours = await self.measure("x", self.load("ours", self.arguments.viewers))
        results = [ours]
        for variant in self.arguments.variants.split(","):
            results.append(await self.measure("x", self.load(variant.strip(), ours.load.viewers)))
        title = "x. Experiments: ours with one proposed change each (bench/chat/variants.py)"
        return report.table(title, results, baseline=ours, ratio_title="variant/ours")

    def write_json(self, path: Path) -> None:
        rows = []
        for scenario, result in self.results:
            # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs.
            data = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
            data["load"] = dataclasses.asdict(result.load)
            for name in ("histogram", "after_stamp", "closed", "sender_errors", "before_stamp"):
                data[name] = {str(k): v for k, v in sorted(getattr(result, name).items())}
            data["p50_ms"] = report.percentile_ms(result.histogram, 0.5)
            data["p99_ms"] = report.percentile_ms(result.histogram, 0.99)
            rows.append({"scenario": scenario, **data})
        path.write_text(json.dumps(rows, indent=1))


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run(arguments: argparse.Namespace) -> str:
    log_dir = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    say(f"logs in {log_dir}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    settings = chat_settings(arguments.chat_setting)
    setup = prepare(
        arguments.database_url, arguments.redis_url, settings, arguments.senders, log_dir
    )
    bench = Run(arguments, setup)
    sections = []
    try:
        for scenario in arguments.scenarios.split(","):
            try:
                sections.append(await getattr(bench, f"scenario_{scenario.strip()}")())
            except Exception as error:  # report it and go on with the other scenarios
                say(traceback.format_exc())
                sections.append(f"### {scenario}: failed\n\n{error!r}")
            print(sections[-1] + "\n", flush=True)
    finally:
        if arguments.json:
            bench.write_json(arguments.json)
    return "\n\n".join(sections)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    arguments.senders = arguments.senders or max(1, int(2 * arguments.rate))
    raise_open_file_limit()
    if arguments.pin:
        servers.SERVER_CPUS = "0"
        measurement.GENERATOR_CPUS = "1"
    command = shlex.join([".venv/bin/python", "bench/chat_load.py", *argv])
    print(f"Command: `{command}`\n", flush=True)
    print(f"Code under test: chat/*.py and livesite/*.py sha256 {code_fingerprint()}\n")
    limits = chat_settings(arguments.chat_setting) or "the defaults, 1/s with a burst of 5"
    print(
        f"{arguments.senders} senders at {arguments.rate / arguments.senders:.2f} msg/s each "
        f"(per-user limit: {limits}); {arguments.duration:g} s of sending. "
        "deliveries/s: chat.message events received by viewers (batch frames unwrapped) "
        "within the drain deadline, divided by the seconds of sending. lost: (viewer, "
        f"message) pairs not received {arguments.drain:g} s after the last send. CPU and "
        "time waiting for a core (/proc/<pid>/stat, schedstat) run from the first send "
        "until every viewer has every message or the deadline passes.\n",
        flush=True,
    )
    asyncio.run(run(arguments))
    return 0
