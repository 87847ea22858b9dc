"""What one gift send does, counted: SQL round trips, Redis commands and round trips, room
frames, Celery tasks and Python function calls, per send of `send_gift`.

`bench_gifts.py` times sends, and on a shared two-core machine its figures move with the
load by more than a change in the code. These counts do not: the same workload gives the
same numbers however busy the machine is, so two trees can be compared send for send.

Two phases, after a warm-up in which every sender gifts every room once (imports, the
catalog cache, the first connections, every balance row a first credit creates):

- single: `--sends` sends one after another from one thread (each is a batch of one);
- batch: `--rounds` batches of `--batch` sends, formed on purpose: the group commit is
  made to look busy, `--batch` threads submit a send each, and only when all of them are
  queued is the lead handed on, so every round is exactly one batch of that size.

Counted below the libraries, so every caller is seen: SQL at the MySQLdb connection
(statements by kind and first table, COMMIT, autocommit switches, new connections);
Redis at redis-py's connection (round trips = writes to the socket, commands by name,
bytes sent, new connections); `apply_async` calls; Python calls with cProfile (every
thread's, less the counters' own). Each phase is then run again (`--owner-sends`
sends) under a trace that charges every Python call to the nearest function of the
tree on the stack, which shows where the calls come from across two trees whose
modules differ. cProfile's times are printed too, but only the counts are steady.

The once-per-window work after a send (a room's leaderboard snapshot every 2 s,
statistics every 30 s) and the gift catalog's 5 s cache depend on the clock, so their
windows are set to an hour here: it runs once per room in the warm-up and never in the
measured sends, and the counts do not depend on speed. On a live site it costs per room
and window, not per send.

It drops and recreates its database (`--database`, default livesite_gift_calls) and
leaves no keys in Redis (they are under a prefix of the run's own). `--tree` runs another
copy of the code (an older commit from `git archive`) with this script; `--json` saves
the figures and `--compare` prints saved runs side by side:

    DATABASE_URL=mysql://root@127.0.0.1:3306/livesite_gift_calls \\
    REDIS_URL=redis://127.0.0.1:6379/13 nice -n 19 .venv/bin/python \\
    bench/bench_gift_calls.py --tree /tmp/old --json /tmp/old.json
    ... bench/bench_gift_calls.py --json /tmp/new.json
    .venv/bin/python bench/bench_gift_calls.py --compare /tmp/old.json /tmp/new.json
"""

import argparse
import cProfile
import functools
import json
import os
import pstats
import re
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from bench_gifts import first_of, make_cast, recreate_database

ROOT = Path(__file__).resolve().parent.parent
CLOCK_WINDOWS = {
    "GIFTS_LEADERBOARD_PUBLISH_INTERVAL": "3600",
    "GIFTS_STATS_DELAY_SECONDS": "3600",
    "GIFTS_CATALOG_CACHE_SECONDS": "3600",
}
GIFTS = ["heart", "rose", "ice-cream", "donut"]


# --- Counting --------------------------------------------------------------------------------


class Tally:
    """Counts from every thread; a phase reads the difference of two snapshots."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts: Counter = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def snapshot(self) -> Counter:
        with self._lock:
            return Counter(self.counts)


TALLY = Tally()


def _wrap(owner, name: str, before):
    original = getattr(owner, name)

    def counted(self, *args, **kwargs):
        before(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    counted.__name__ = counted.__qualname__ = f"{owner.__name__}.{name}"
    setattr(owner, name, counted)


def _verb(statement) -> str:
    """The statement's kind and its first table: `SELECT gifts_giftsend`, `COMMIT`."""
    text = statement.decode(errors="replace") if isinstance(statement, bytes) else statement
    words = text.replace("`", "").split()
    if not words:
        return "?"
    verb, upper = words[0].upper(), [word.upper() for word in words]
    for index, word in enumerate(upper[:-1]):
        if word in ("FROM", "INTO", "UPDATE") and verb != "SET":
            return f"{verb} {words[index + 1]}"
    return " ".join(words[:3])[:40] if verb == "SELECT" else verb  # `SELECT 1`, variables


def install_counters() -> None:
    import MySQLdb.connections
    import redis.connection
    from celery.app.task import Task

    mysql = MySQLdb.connections.Connection
    _wrap(mysql, "__init__", lambda self, *a, **k: TALLY.add("sql connect"))
    _wrap(mysql, "query", lambda self, statement: TALLY.add(f"sql {_verb(statement)}"))
    _wrap(mysql, "commit", lambda self: TALLY.add("sql COMMIT"))
    _wrap(mysql, "rollback", lambda self: TALLY.add("sql ROLLBACK"))
    _wrap(
        mysql,
        "autocommit",
        lambda self, on: self.get_autocommit() != bool(on) and TALLY.add("sql autocommit"),
    )

    connection = redis.connection.AbstractConnection
    _wrap(connection, "connect", lambda self: not self._sock and TALLY.add("redis connect"))

    def sent(self, command, check_health=True):
        TALLY.add("redis round trips")
        pieces = [command] if isinstance(command, (str, bytes, memoryview)) else command
        TALLY.add("redis bytes sent", sum(len(piece) for piece in pieces))

    _wrap(connection, "send_packed_command", sent)
    _wrap(connection, "send_command", lambda self, *args, **k: _redis_command(args))
    _wrap(connection, "pack_commands", lambda self, commands: _redis_commands(commands))
    _wrap(Task, "apply_async", lambda self, *a, **k: TALLY.add("celery apply_async"))


def _redis_command(args) -> None:
    name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    TALLY.add(f"redis {name.upper()}")


def _redis_commands(commands) -> None:
    for args in commands:
        _redis_command(args)


# --- The code under test ---------------------------------------------------------------------


def setup_django(tree: Path, run: str) -> None:
    os.environ.update(CLOCK_WINDOWS)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "livesite.settings",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",  # with DEBUG on, Django records every query: not what runs live
            "SECRET_KEY": "bench-only-not-secret",
            "REDIS_KEY_PREFIX": f"bench-calls-{run}",
        }
    )
    # Production's static storage needs a manifest: collected once per tree, outside it.
    os.environ.setdefault("LIVESITE_VAR_DIR", f"/tmp/bench-gift-calls/{tree.name}/var")
    sys.path[:] = [str(tree)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    os.chdir(tree)  # Celery's Django fix-up puts the working directory first on the path
    import django

    django.setup()


# --- Phases ----------------------------------------------------------------------------------


class Owners:
    """Python calls, each charged to the nearest function of the tree on the stack (itself,
    or the one whose library call made it): where a send's calls come from. By qualified
    name, so a function that moved to another module keeps its row."""

    def __init__(self, tree: Path):
        self.tree = tree
        self.calls: Counter = Counter()
        self._names: dict = {}  # code object -> its name, or None when not the tree's
        self._lock = threading.Lock()

    def _owner(self, code):
        if code not in self._names:
            name = code.co_filename
            ours = name.startswith(f"{self.tree}/") and "/.venv/" not in name
            self._names[code] = code.co_qualname if ours and name != __file__ else None
        return self._names[code]

    def traced(self, call, *args):
        calls: Counter = Counter()

        def count(frame, event, arg):
            if event not in ("call", "c_call"):
                return
            if frame.f_code.co_filename == __file__ and not _wrapped_builtin(event, arg):
                return  # the counters' own work
            while frame is not None:
                name = self._owner(frame.f_code)
                if name is not None:
                    calls[name] += 1
                    return
                frame = frame.f_back
            calls["(outside the tree)"] += 1

        sys.setprofile(count)  # this thread only
        try:
            return call(*args)
        finally:
            sys.setprofile(None)
            with self._lock:
                self.calls.update(calls)


def _wrapped_builtin(event: str, function) -> bool:
    """True for a counter calling the C method it wraps (MySQLdb's commit, rollback)."""
    owner = getattr(function, "__objclass__", None) or type(getattr(function, "__self__", None))
    return event == "c_call" and "_mysql" in owner.__module__


class Phase:
    """Counts and a profile (or, given `owners`, a trace) of the sends between `start` and
    `stop`."""

    def __init__(self, name: str, sends: int, owners: Owners | None = None):
        self.name, self.sends, self.owners = name, sends, owners
        self.stats: pstats.Stats | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._before = TALLY.snapshot()

    def stop(self) -> None:
        self.counts = TALLY.snapshot() - self._before

    def run(self, call, *args):
        if self.owners is not None:
            return self.owners.traced(call, *args)
        profile = cProfile.Profile()
        profile.enable()
        try:
            return call(*args)
        finally:
            profile.disable()
            with self._lock:
                if self.stats is None:
                    self.stats = pstats.Stats(profile)
                else:
                    self.stats.add(profile)


def single_phase(phase: Phase, send, senders, rooms, offset: int) -> Phase:
    phase.start()
    for n in range(phase.sends):
        sender, room = senders[(offset + n) % len(senders)], rooms[n % len(rooms)]
        phase.run(send, sender, room, GIFTS[n % len(GIFTS)], 1, uuid.uuid4().hex)
    phase.stop()
    return phase


def batch_phase(phase: Phase, send, group_commit, senders, rooms, size: int, offset: int):
    """`phase.sends / size` batches of exactly `size` sends, each sender once in a batch."""
    rounds = phase.sends // size
    errors = []
    go = threading.Barrier(size + 1)

    def worker(slot: int) -> None:
        for round_ in range(rounds):
            go.wait()
            sender = senders[(offset + round_ * size + slot) % len(senders)]
            room = rooms[(round_ + slot) % len(rooms)]
            try:
                phase.run(send, sender, room, GIFTS[slot % 4], 1, uuid.uuid4().hex)
            except Exception as error:  # shown, never hidden
                errors.append(error)
            go.wait()

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(size)]
    for thread in threads:
        thread.start()
    phase.start()
    for _ in range(rounds):
        with group_commit._lock:
            group_commit._leading = True  # a batch "in flight": every send queues behind it
        go.wait()
        while len(group_commit._queue) < size:
            time.sleep(0.001)
        group_commit._pass_lead()  # the first queued leads and takes all `size` at once
        go.wait()
    phase.stop()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"batch phase: {len(errors)} sends failed, first: {errors[0]!r}")
    return phase


# --- Report ----------------------------------------------------------------------------------


def _function_name(tree: Path, key) -> str:
    filename, _line, function = key
    path = Path(filename)
    for base in (tree, Path(sys.prefix)):
        if path.is_absolute() and path.is_relative_to(base):
            path = path.relative_to(base)
            break
    if "site-packages" in path.parts:
        path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
    if filename == "~":  # a built-in: its repr may carry an address that differs by run
        return re.sub(r" at 0x[0-9a-f]+", "", function)
    return f"{path}:{function}"


def summary(tree: Path, phase: Phase) -> dict:
    stats = phase.stats.stats if phase.stats else {}
    functions: dict[str, list[float]] = {}
    total_calls = 0
    for key, (_primitive, calls, tottime, _cumtime, callers) in stats.items():
        if key[0] == __file__:
            continue  # the counters themselves
        if key[0] == "~" and "_mysql.connection" not in key[2]:  # built-ins the counters call
            calls -= sum(figures[1] for caller, figures in callers.items() if caller[0] == __file__)
            if not calls:
                continue
        name = _function_name(tree, key)
        entry = functions.setdefault(name, [0, 0.0])
        entry[0] += calls
        entry[1] += tottime
        total_calls += calls
    per_send = {name: count / phase.sends for name, count in sorted(phase.counts.items())}
    per_send["python calls"] = total_calls / phase.sends
    return {
        "phase": phase.name,
        "sends": phase.sends,
        "per_send": per_send,
        "functions": {
            name: {"calls": calls / phase.sends, "tottime_us": tottime / phase.sends * 1e6}
            for name, (calls, tottime) in functions.items()
        },
    }


def print_counts(runs: list[dict]) -> None:
    """One table per phase: each count per send, a column per run."""
    for index, phase in enumerate(runs[0]["phases"]):
        print(f"\n### per send, {phase['phase']} ({phase['sends']} sends)\n")
        print("| count | " + " | ".join(run["label"] for run in runs) + " |")
        print("| --- |" + " ---: |" * len(runs))
        names = sorted({name for run in runs for name in run["phases"][index]["per_send"]})
        for name in names:
            values = [run["phases"][index]["per_send"].get(name, 0) for run in runs]
            print(f"| {name} | " + " | ".join(f"{value:.2f}" for value in values) + " |")


def print_functions(runs: list[dict], top: int) -> None:
    """The functions whose calls per send differ most between the first and the last run."""
    for index, phase in enumerate(runs[0]["phases"]):
        first = runs[0]["phases"][index]["functions"]
        last = runs[-1]["phases"][index]["functions"]
        names = set(first) | set(last)

        def change(name, first=first, last=last):
            return last.get(name, {}).get("calls", 0) - first.get(name, {}).get("calls", 0)

        changed = sorted(
            (n for n in names if abs(change(n)) >= 0.01), key=lambda n: -abs(change(n))
        )
        print(
            f"\n### calls per send that differ, {phase['phase']}: {runs[0]['label']} -> "
            f"{runs[-1]['label']} (tottime µs/send, timed: indicative only)\n"
        )
        print(
            "| function | "
            + " | ".join(f"{run['label']} calls" for run in runs)
            + f" | {runs[0]['label']} µs | {runs[-1]['label']} µs |"
        )
        print("| --- |" + " ---: |" * (len(runs) + 2))
        for name in changed[:top]:
            calls = [
                run["phases"][index]["functions"].get(name, {}).get("calls", 0) for run in runs
            ]
            print(
                f"| `{name}` | "
                + " | ".join(f"{c:.2f}" for c in calls)
                + f" | {first.get(name, {}).get('tottime_us', 0):.1f}"
                + f" | {last.get(name, {}).get('tottime_us', 0):.1f} |"
            )


def print_owners(runs: list[dict], top: int) -> None:
    """Calls per send charged to each function of the tree, those that differ most between
    the first and the last run first."""
    for phase, last in runs[-1]["owners"].items():
        first = runs[0]["owners"].get(phase, {})
        names = sorted(set(first) | set(last), key=lambda n: -abs(last.get(n, 0) - first.get(n, 0)))
        print(f"\n### Python calls per send, charged to the tree's nearest function ({phase})\n")
        print("| function | " + " | ".join(run["label"] for run in runs) + " |")
        print("| --- |" + " ---: |" * len(runs))
        totals = [sum(run["owners"].get(phase, {}).values()) for run in runs]
        print("| all | " + " | ".join(f"{total:.0f}" for total in totals) + " |")
        for name in names[:top]:
            values = [run["owners"].get(phase, {}).get(name, 0) for run in runs]
            print(f"| `{name}` | " + " | ".join(f"{value:.1f}" for value in values) + " |")


def print_top(run: dict, top: int) -> None:
    for phase in run["phases"]:
        print(f"\n### {run['label']}, {phase['phase']}: top functions by tottime\n")
        print("| function | calls/send | tottime µs/send |")
        print("| --- | ---: | ---: |")
        ranked = sorted(phase["functions"].items(), key=lambda item: -item[1]["tottime_us"])
        for name, figures in ranked[:top]:
            print(f"| `{name}` | {figures['calls']:.2f} | {figures['tottime_us']:.1f} |")


def measure(options) -> dict:
    tree = Path(options.tree).resolve()
    database = options.database
    url = os.environ.setdefault("DATABASE_URL", f"mysql://root@127.0.0.1:3306/{database}")
    if not url.endswith(f"/{database}"):
        raise SystemExit(f"refusing to run: DATABASE_URL does not name --database {database}")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    recreate_database(database)
    run = uuid.uuid4().hex[:8]
    setup_django(tree, run)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    if not (Path(os.environ["LIVESITE_VAR_DIR"]) / "static" / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    senders, rooms = make_cast(options.senders, options.broadcasters)
    send = first_of("gifts.services.sending:send_gift", "gifts.services:send_gift")
    group_commit = first_of("gifts.services.sending:_group_commit", "gifts.services:_group_commit")
    install_counters()
    # Warm-up: every sender to every room once (each room's once-a-window work, every row a
    # first credit creates), the catalog cache, connections.
    for n in range(len(senders) * len(rooms)):
        sender, room = senders[n % len(senders)], rooms[n // len(senders) % len(rooms)]
        send(sender, room, GIFTS[n % 4], 1, uuid.uuid4().hex)
    size, traced = options.batch, options.owner_sends
    phases = [single_phase(Phase("single", options.sends), send, senders, rooms, 0)]
    owners = [single_phase(Phase("single", traced, Owners(tree)), send, senders, rooms, 0)]
    if size > 1:
        batch = functools.partial(batch_phase, send=send, group_commit=group_commit)
        batch(Phase("warm-up", size), senders=senders, rooms=rooms, size=size, offset=0)
        name, sends = f"batch of {size}", size * options.rounds
        phases.append(batch(Phase(name, sends), senders=senders, rooms=rooms, size=size, offset=1))
        traced = Phase(name, size * max(1, traced // size), Owners(tree))
        owners.append(batch(traced, senders=senders, rooms=rooms, size=size, offset=2))
    connections.close_all()
    clean_up_redis(run)
    return {
        "label": options.label or tree.name,
        "tree": str(tree),
        "phases": [summary(tree, phase) for phase in phases],
        "owners": {
            phase.name: {name: calls / phase.sends for name, calls in phase.owners.calls.items()}
            for phase in owners
        },
    }


def clean_up_redis(run: str) -> None:
    from django.conf import settings

    from livesite.celery import app

    app.control.purge()  # the warm-up's statistics tasks, queued for a worker never started
    client = first_of(
        "realtime.redis_client:get_sync_redis", "livesite.redis_client:get_sync_redis"
    )()
    for key in client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*"):
        client.delete(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", default=str(ROOT), help="The code to measure (a copy).")
    parser.add_argument("--label", help="The run's name in tables (default: the tree's).")
    parser.add_argument("--database", default="livesite_gift_calls")
    parser.add_argument("--senders", type=int, default=40)
    parser.add_argument("--broadcasters", type=int, default=4)
    parser.add_argument("--sends", type=int, default=200, help="Sends of the single phase.")
    parser.add_argument("--batch", type=int, default=8, help="Sends a batch (1: no batches).")
    parser.add_argument("--rounds", type=int, default=10, help="Batches of the batch phase.")
    parser.add_argument("--owner-sends", type=int, default=50, help="Sends traced (call owners).")
    parser.add_argument("--top", type=int, default=25, help="Functions shown.")
    parser.add_argument("--json", help="Save the figures here.")
    parser.add_argument("--compare", nargs="+", metavar="JSON", help="Print saved runs.")
    options = parser.parse_args()
    if options.json:
        options.json = Path(options.json).resolve()
    if options.compare:
        runs = [json.loads(Path(name).read_text()) for name in options.compare]
    else:
        runs = [measure(options)]
        if options.json:
            Path(options.json).write_text(json.dumps(runs[0]))
        print_top(runs[0], options.top)
    print_counts(runs)
    if len(runs) > 1:
        print_owners(runs, options.top)
        print_functions(runs, options.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
