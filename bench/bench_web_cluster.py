"""The largest room over several daphne processes, and CPU per 1,000 viewers per process.

    .venv/bin/python bench/bench_web_cluster.py                       # 4 processes
    .venv/bin/python bench/bench_web_cluster.py --processes 4 --steps 2000,4000 \\
        --redis-url redis://127.0.0.1:6379/12 --duration 10

One room, its viewers and senders spread over N daphne processes (socket k on
process k mod N, as a balancer would spread them), R messages a second. The room
grows step by step until p99 reaches 250 ms or a delivery is lost. Each step is
one measurement of bench/chat (fresh processes, fresh Redis db, the same load
generators as bench/chat_load.py scenario b), so the figures compare with the
one-process figures in docs/benchmarks.md.

The load generators run on the same machine as the servers. Each step says how
much CPU they used and how late their own event loops ran: when they, not the
daphne processes, fill the cores, the step measured the generator, and says so.

It connects straight to the daphne ports, not through nginx: on a 2-core box an
nginx in the path takes CPU from the processes under test, and in production it
runs on machines of its own. livesite/tests/faults/test_web_cluster.py covers
the path through deploy/nginx-web-cluster.conf.
"""

import argparse
import asyncio
import os
import shlex
import sys
from pathlib import Path

DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/livesite_bench_web_cluster"
GENERATOR_LAG_LIMIT_MS = 50  # a generator loop this late adds its own delay to the p99
BUSY_MACHINE_WAITING = 0.5  # s/s our processes sat runnable while something else had the cores


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/bench_web_cluster.py")
    parser.add_argument("--processes", type=int, default=4, help="daphne processes")
    parser.add_argument("--steps", default="2000,4000,6000,8000", help="room sizes to try")
    parser.add_argument("--rate", type=float, default=20, help="messages a second, all senders")
    parser.add_argument("--duration", type=float, default=15, help="seconds of sending")
    parser.add_argument("--drain", type=float, default=10)
    parser.add_argument(
        "--keep-going", action="store_true", help="measure every step, even past a failed one"
    )
    parser.add_argument("--viewers-per-generator", type=int, default=2000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    return parser.parse_args(argv)


def cpu_per_thousand_viewers_per_process(result) -> float:
    """Server CPU seconds a second, per process, per 1,000 viewers that process holds."""
    processes = result.load.server_processes
    per_process = result.server_cpu / result.window / processes
    viewers_per_process = max(1, result.connected) / processes
    return per_process / (viewers_per_process / 1000)


def limit_of(result, cores: int) -> str:
    """Whether the step measured the servers or the machine and its load generators."""
    server = result.server_cpu / result.window
    generator = result.generator_cpu / result.window
    waiting = (result.server_waiting + result.generator_waiting) / result.window
    verdict = (
        f"servers {server:.2f} + generators {generator:.2f} CPU s/s of {cores} cores; "
        f"{waiting:.2f} s/s spent runnable waiting for a core; "
        f"generator loop lag p99 {result.generator_lag_p99_ms:.0f} ms"
    )
    if waiting > BUSY_MACHINE_WAITING:
        return verdict + (
            ": the CORES WERE BUSY (other programs on the shared machine, or more of our "
            "processes than cores), the p99 waited on them"
        )
    if result.generator_lag_p99_ms > GENERATOR_LAG_LIMIT_MS:
        return verdict + ": the LOAD GENERATOR was late, its delay is in the p99"
    if server + generator > 0.9 * cores:
        share = "the generators" if generator > server else "the servers"
        return verdict + f": the machine's cores were full, most of it {share}"
    return verdict + ": the servers were the limit"


async def run(arguments: argparse.Namespace) -> str:
    from bench.chat import report
    from bench.chat.environment import prepare
    from bench.chat.measurement import Load, measure

    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-web-cluster-{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    senders = max(1, int(2 * arguments.rate))
    setup = prepare(arguments.database_url, arguments.redis_url, {}, senders, log_dir)
    results, largest, notes = [], None, []
    for viewers in [int(step) for step in arguments.steps.split(",")]:
        load = Load(
            application="ours",
            viewers=viewers,
            rate=arguments.rate,
            duration=arguments.duration,
            senders=senders,
            server_processes=arguments.processes,
            viewers_per_generator=arguments.viewers_per_generator,
            drain=arguments.drain,
        )
        print(f"... {viewers} viewers over {arguments.processes} processes", file=sys.stderr)
        result = await measure(load, setup)
        results.append(result)
        per_thousand = cpu_per_thousand_viewers_per_process(result)
        notes.append(
            f"- {result.connected:,} viewers: {per_thousand:.3f} CPU s/s per 1,000 viewers "
            f"per process at {arguments.rate:g} msg/s; {limit_of(result, os.cpu_count())}"
        )
        print(notes[-1], file=sys.stderr, flush=True)
        if report.meets_targets(result):
            largest = viewers if largest is None or viewers > largest else largest
        elif not arguments.keep_going:
            break
    title = f"Largest room over {arguments.processes} daphne processes"
    verdict = (
        f"Largest room held at p99 < {report.P99_TARGET_MS} ms with nothing lost: "
        f"{f'{largest:,} viewers' if largest else 'none of the steps'}"
    )
    return "\n".join([report.table(title, results), "", *notes, "", f"**{verdict}.**"])


def main(argv: list[str]) -> int:
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)  # run as a script: make `bench.chat` importable
    from bench.chat.scenarios import raise_open_file_limit

    arguments = parse_arguments(argv)
    raise_open_file_limit()
    print(f"Command: `{shlex.join(['.venv/bin/python', 'bench/bench_web_cluster.py', *argv])}`")
    print(f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start.\n")
    print(asyncio.run(run(arguments)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
