"""Starting and stopping the daphne processes under test, and reading a process's CPU time.

CPU time comes from /proc/<pid>/stat (user + system, every thread of the
process), read before and after a measurement: the difference is what the
process spent, whatever else the shared machine was doing. /proc/<pid>/schedstat
adds how long the event loop's thread sat runnable waiting for a core: on a
shared 2-core machine that, not our code, can be most of a latency figure.
"""

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
APPLICATIONS = {
    "ours": "livesite.asgi:application",
    "baseline": "bench.chat.baseline:application",
}  # any other name is an experiment in bench/chat/variants.py
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def application_path(name: str) -> str:
    return APPLICATIONS.get(name) or f"bench.chat.variants:{name}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def waiting_seconds(pid: int) -> float:
    """Seconds the process's main thread was runnable but waited for a core (a busy machine)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"daphne on port {port} did not listen within {timeout} s")


@dataclass
class Server:
    application: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


SERVER_CPUS: str | None = None  # --pin: `taskset -c` list for the daphne processes


def pinned(argv: list[str], cpus: str | None) -> list[str]:
    """`argv` run on the cores `cpus` (taskset), or as it is when `cpus` is None."""
    return argv if cpus is None else ["taskset", "-c", cpus, *argv]


def start_servers(application: str, count: int, env: dict, log_dir: Path) -> list[Server]:
    """`count` daphne processes serving `application` ("ours" or "baseline"), listening."""
    servers = []
    python_daphne = [str(PYTHON), "-m", "daphne", "-b", "127.0.0.1"]
    try:
        for _ in range(count):
            port = free_port()
            log_path = log_dir / f"daphne-{application}-{port}.log"
            with log_path.open("w") as log:
                process = subprocess.Popen(
                    pinned(
                        [*python_daphne, "-p", str(port), application_path(application)],
                        SERVER_CPUS,
                    ),
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            servers.append(Server(application, port, process, log_path))
        for server in servers:
            wait_for_port(server.port, server.process)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def start_profiler(pid: int, seconds: float, output: Path) -> subprocess.Popen:
    """py-spy sampling `pid` for `seconds`, without pausing it, as collapsed stacks."""
    command = [str(REPO / ".venv" / "bin" / "py-spy"), "record", "--pid", str(pid)]
    command += ["--duration", str(max(1, int(seconds))), "--rate", "100", "--nonblocking"]
    command += ["--format", "raw", "--output", str(output)]
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
