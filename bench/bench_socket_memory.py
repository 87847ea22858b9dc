"""What a viewer socket costs a web process in memory, idle and while the room chats.

    .venv/bin/python bench/bench_socket_memory.py --sockets 2000,10000
    .venv/bin/python bench/bench_socket_memory.py --sockets 2000 --compare /tmp/main-copy
    .venv/bin/python bench/bench_socket_memory.py --sockets 2000 --trace /tmp/traces

One daphne process serving Livesite with production settings (DEBUG=0, MariaDB,
Redis; bench/chat/environment.py), per room size N:

1. the server starts and 40 signed-in senders join the room (which opens its hub,
   history and presence): RSS "before";
2. N anonymous viewers join (picows load generators, bench/chat/load.py) and the
   room settles: RSS "idle";
3. the senders chat at --rate messages a second for --duration seconds; RSS is
   sampled every 0.2 s until every viewer has every message: RSS "chatting" is the
   highest sample. The chat figures (p50, p99, lost) come from the same run.

Per socket = (RSS - before) / N, in KB of 1,000 bytes. With --compare DIR, the
code in DIR (e.g. `git archive main | tar -x -C DIR`) is measured the same way
right after this checkout, for each N, so both see the same machine. With
--trace DIR, the server runs under tracemalloc and writes a snapshot before the
viewers join and one once they are idle (`python -m tracemalloc`-style files, to
compare with `tracemalloc.Snapshot.load`); traced figures are not memory figures.

Uses its own database (livesite_bench_memory, recreated) and Redis db 13 unless told.
"""

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.chat import report  # noqa: E402
from bench.chat.environment import prepare  # noqa: E402
from bench.chat.measurement import Generator, Load, Result, add_viewer_outcome  # noqa: E402
from bench.chat.servers import PYTHON, free_port, wait_for_port  # noqa: E402

SENDERS = 40
SETTLE_SECONDS = 5.0
SAMPLE_EVERY = 0.2
VIEWERS_PER_GENERATOR = 2500


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class MemoryRun:
    code: str
    sockets: int
    connected: int = 0
    before: int = 0
    idle: int = 0
    chatting: int = 0
    result: Result | None = None
    notes: list[str] = field(default_factory=list)

    def per_socket_kb(self, rss: int) -> float:
        return (rss - self.before) / max(self.connected, 1) / 1000


def start_server(code_dir: Path, env: dict, log_dir: Path, trace_dir: Path | None):
    port = free_port()
    server_env = dict(env)
    application = "livesite.asgi:application"
    if trace_dir is not None:
        server_env["BENCH_TRACE_DIR"] = str(trace_dir)
        server_env["PYTHONPATH"] = str(REPO / "bench")
        application = "socket_memory_trace:application"
    log_path = log_dir / f"daphne-{code_dir.name}-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(PYTHON), "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
            cwd=code_dir,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, timeout=60 if trace_dir is None else 600)
    return process, port


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def measure(code_dir: Path, sockets: int, setup, options) -> MemoryRun:
    run = MemoryRun(str(code_dir), sockets)
    setup.flush_redis()
    process, port = start_server(code_dir, setup.env, setup.log_dir, options.trace)
    generators: list[Generator] = []
    phase = secrets.token_hex(3)
    common = {
        "phase": phase,
        "slug": setup.slug,
        "ports": [port],
        "total": int(options.rate * options.duration),
        "concurrency": 50,
    }
    try:
        senders = await Generator.spawn(
            {
                **common,
                "role": "senders",
                "session_ids": setup.session_ids[:SENDERS],
                "rate": options.rate,
                "grace": 1.0,
            },
            setup,
            "memory-senders",
        )
        generators.append(senders)
        ready = await senders.hear("ready", 120)
        if ready["failed"]:
            raise RuntimeError(f"senders could not connect: {ready['errors']}")
        await asyncio.sleep(SETTLE_SECONDS)
        run.before = rss_bytes(process.pid)
        if options.trace:
            process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(3)
        viewers = []
        first = 0
        shares = -(-sockets // VIEWERS_PER_GENERATOR)
        for number in range(shares):
            count = sockets // shares + (1 if number < sockets % shares else 0)
            config = {**common, "role": "viewers", "count": count, "first_index": first}
            viewers.append(await Generator.spawn(config, setup, f"memory-viewers{number}"))
            first += count
        generators.extend(viewers)
        readies = await asyncio.gather(*(g.hear("ready", 900) for g in viewers))
        run.connected = sum(r["connected"] for r in readies)
        failed = sum(r["failed"] for r in readies)
        if failed:
            run.notes.append(f"{failed} viewers failed to connect")
        await asyncio.sleep(SETTLE_SECONDS)
        run.idle = rss_bytes(process.pid)
        if options.trace:
            process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(20)
            return run
        result = Result(Load("memory", sockets, options.rate, options.duration, SENDERS))
        peak = run.idle
        at = time.time() + 0.5
        for generator in generators:
            await generator.tell({"command": "go", "at": at})
        hearing = asyncio.ensure_future(senders.hear("sent", options.duration + 120))
        while not hearing.done():
            peak = max(peak, rss_bytes(process.pid))
            await asyncio.sleep(SAMPLE_EVERY)
        sent = hearing.result()
        expected = sorted(set(sent["sent"]) - set(sent["rejected"]))
        deadline = time.time() + options.drain
        for generator in viewers:
            await generator.tell({"command": "expect", "tokens": expected, "deadline": deadline})
        outcomes = asyncio.ensure_future(
            asyncio.gather(*(g.hear("result", options.drain + 120) for g in viewers))
        )
        while not outcomes.done():
            peak = max(peak, rss_bytes(process.pid))
            await asyncio.sleep(SAMPLE_EVERY)
        run.chatting = peak
        result.sent, result.rejected = len(sent["sent"]), len(sent["rejected"])
        for outcome in outcomes.result():
            add_viewer_outcome(result, outcome)
        run.result = result
        if process.poll() is not None:
            run.notes.append("the server died")
        return run
    finally:
        for generator in generators:
            await generator.close()
        stop(process)


def row(run: MemoryRun, main: MemoryRun | None) -> str:
    mb = 1_000_000
    idle_kb, chat_kb = run.per_socket_kb(run.idle), run.per_socket_kb(run.chatting)
    cells = [
        run.code,
        f"{run.connected:,}",
        f"{run.before / mb:.0f}",
        f"{run.idle / mb:.0f}",
        f"**{idle_kb:.1f}**",
        f"{run.chatting / mb:.0f}" if run.chatting else "-",
        f"**{chat_kb:.1f}**" if run.chatting else "-",
    ]
    result = run.result
    if result is not None:
        p50 = report.percentile_ms(result.histogram, 0.5)
        p99 = report.percentile_ms(result.histogram, 0.99)
        cells += [f"{p50:.0f}" if p50 else "-", f"{p99:.0f}" if p99 else "-", str(result.lost)]
        cells.append(str(result.duplicates))
    else:
        cells += ["-", "-", "-", "-"]
    if main is not None and main.connected and main.chatting:
        cells.append(
            f"{idle_kb / main.per_socket_kb(main.idle):.2f} / "
            f"{chat_kb / main.per_socket_kb(main.chatting):.2f}"
        )
    else:
        cells.append("")
    cells.append("; ".join(run.notes))
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| code | sockets | RSS before MB | RSS idle MB | KB/socket idle | RSS chatting MB "
    "| KB/socket chatting | p50 ms | p99 ms | lost | duplicates | ÷ compared (idle / chatting) "
    "| notes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
)


async def main_async(options) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    print(f"logs in {log_dir}; load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    setup = prepare(options.database_url, options.redis_url, {}, SENDERS, log_dir)
    # Pub/sub channels are not per Redis database: a prefix of our own keeps other
    # work's room events (room 1 is everyone's first room) out of the room measured.
    setup.env["REDIS_KEY_PREFIX"] = f"bench-memory-{secrets.token_hex(4)}"
    rows = []
    for sockets in options.sockets:
        ours = await measure(REPO, sockets, setup, options)
        rows.append(row(ours, None))
        print(rows[-1], file=sys.stderr, flush=True)
        if options.compare:
            theirs = await measure(options.compare, sockets, setup, options)
            rows[-1] = row(ours, theirs)
            rows.append(row(theirs, None))
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(HEADER)
    print("\n".join(rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", default="2000", help="room sizes, comma-separated")
    parser.add_argument("--rate", type=float, default=20, help="messages a second, all senders")
    parser.add_argument("--duration", type=float, default=20, help="seconds of chatting")
    parser.add_argument("--drain", type=float, default=10)
    parser.add_argument("--compare", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--trace", type=Path, help="write tracemalloc snapshots here instead")
    parser.add_argument(
        "--database-url", default="mysql://root@127.0.0.1:3306/livesite_bench_memory"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    options = parser.parse_args()
    options.sockets = [int(n) for n in options.sockets.split(",")]
    if options.trace:
        options.trace.mkdir(parents=True, exist_ok=True)
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"Command: `.venv/bin/python bench/bench_socket_memory.py {' '.join(sys.argv[1:])}`\n")
    asyncio.run(main_async(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
