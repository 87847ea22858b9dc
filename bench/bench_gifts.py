"""Gift sending under load on MariaDB: sends a second, p50/p99 latency, invariants after.

Two scenarios, each a fixed number of seconds of closed-loop load from
several processes (threads in each, one database connection per thread):

- spread: many senders gifting many live broadcasters;
- hot row: the same senders all gifting ONE broadcaster (a big stream), where
  every send credits the same diamond balance.

Each send is the whole `gifts.sending.send_gift` path the chat socket calls:
the transaction, then the after-commit work (Redis leaderboards, the room's
frames through the channel layer, statistics scheduling). After each
scenario: `ledger.audit()` (every balance equals its ledger sum, no negative
balance, every gift's entries match), every sender's coins equal the grant
minus what their sends cost, and the Redis leaderboard of a stream equals the
ranking recomputed from the database.

Uses its own database (`livesite_gifts_bench`, dropped and recreated) and
Redis database 12. Bounded: about 90 seconds in all.

    DATABASE_URL=mysql://root@127.0.0.1:3306/livesite_gifts_bench \\
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/bench_gifts.py
"""

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "livesite_gifts_bench"
DEFAULT_ENV = {
    "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379/12",
    "DJANGO_SETTINGS_MODULE": "livesite.settings",
    "LOG_LEVEL": "WARNING",
    # Production settings: with DEBUG on, Django records and formats every query.
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-not-secret",
}
GIFTS = ["heart", "rose", "ice-cream", "donut"]
QUANTITIES = [1, 1, 1, 10]
COINS_EACH = 1_000_000


def setup_django(run: str) -> None:
    for name, value in DEFAULT_ENV.items():
        os.environ.setdefault(name, value)  # a script's defaults; the app reads settings only
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # Boards of this run only: stream ids restart with the recreated database.
    settings.GIFTS_LEADERBOARD_KEY_PREFIX = f"bench-{run}:gifts:lb"


# --- Load (runs in each child process) -----------------------------------------------------


def load_process(run, sender_ids, room_ids, threads, seconds, frames, ready, results) -> None:
    """Send gifts from this process's senders for `seconds`; puts (latency, outcome) per send."""
    setup_django(run)
    from django.db import connections

    if not frames:  # measure the gifts path alone, without realtime.publish.publish
        from gifts.services import after_send

        after_send.publish_on_commit = lambda room_id, event: None
        after_send.publish_many = lambda events: None

    from accounts.models import User
    from gifts.errors import GiftError
    from gifts.services import coins, sending
    from rooms.models import Room

    senders = list(User.objects.filter(pk__in=sender_ids))
    rooms = list(Room.objects.filter(pk__in=room_ids))
    connections.close_all()
    outcomes: list[tuple[float, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def run(mine):
        randomly = random.Random()
        local = []
        coins.wallet_of(mine[0])  # connect before the clock starts
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sender, room = randomly.choice(mine), randomly.choice(rooms)
            gift, quantity = randomly.choice(GIFTS), randomly.choice(QUANTITIES)
            began = time.perf_counter()
            try:
                sending.send_gift(sender, room, gift, quantity, uuid.uuid4().hex)
                outcome = "ok"
            except GiftError as error:
                outcome = error.code
            except Exception as error:  # counted and shown, never hidden
                outcome = type(error).__name__
            local.append((time.perf_counter() - began, outcome))
        connections.close_all()
        with lock:
            outcomes.extend(local)

    # Each thread has its own senders: one viewer does not tap from many devices at once.
    workers = [threading.Thread(target=run, args=(senders[n::threads],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()  # every process set up: all threads start together
    start.wait()
    cpu_before = time.process_time()
    for worker in workers:
        worker.join()
    results.put((outcomes, time.process_time() - cpu_before))


# --- Set-up and checks (main process) ------------------------------------------------------


def recreate_database(name: str = DATABASE) -> None:
    import MySQLdb

    server = MySQLdb.connect(host="127.0.0.1", user="root")
    cursor = server.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS {name}")
    cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    server.close()


def first_of(*names: str):
    """The first of `module:attribute` that exists: checkouts from before and after the
    gift services were split name their modules differently (the --compare benches)."""
    import importlib

    for name in names:
        module, attribute = name.split(":")
        try:
            return getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
    raise SystemExit(f"none of {names} in this tree")


def make_cast(senders: int, broadcasters: int):
    """`senders` viewers with coins and `broadcasters` live rooms: (users, rooms)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from rooms import services as rooms

    grant_coins = first_of("gifts.services.coins:grant_coins", "gifts.services:grant_coins")
    seed = first_of("gifts.catalog:seed_demo_catalog", "gifts.services:seed_demo_catalog")
    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"sender{n}", password=password) for n in range(senders)]
        + [
            User(username=f"star{n}", password=password, is_broadcaster=True)
            for n in range(broadcasters)
        ]
    )
    seed()
    viewers = list(User.objects.filter(username__startswith="sender").order_by("pk"))
    for viewer in viewers:
        grant_coins(viewer, COINS_EACH, "bench coins")
    live = []
    for star in User.objects.filter(is_broadcaster=True).order_by("pk"):
        room = rooms.create_room(star, f"{star.username} live")
        rooms.start_stream(room)
        live.append(room)
    return viewers, live


def run_scenario(run, sender_ids, room_ids, processes, threads, seconds, frames):
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(processes + 1)
    results_queue = spawn.Queue()
    workers = [
        spawn.Process(
            target=load_process,
            args=(
                run,
                sender_ids[n::processes],
                room_ids,
                threads,
                seconds,
                frames,
                ready,
                results_queue,
            ),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        ready.wait(timeout=120)
    except threading.BrokenBarrierError:
        for worker in workers:
            worker.kill()
        raise SystemExit("a load process failed to start: see its traceback above") from None
    servers_before = server_cpu_seconds()
    parts = [results_queue.get(timeout=seconds + 120) for _ in workers]
    servers = {name: cpu - servers_before[name] for name, cpu in server_cpu_seconds().items()}
    for worker in workers:
        worker.join()
    cpu = {"clients": sum(client_cpu for _, client_cpu in parts), **servers}
    return [result for outcomes, _ in parts for result in outcomes], cpu


SERVERS = {"MariaDB": ("mariadbd", "mysqld"), "Redis": ("redis-server",)}


def server_cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each local server process (0 when it cannot be read)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(SERVERS, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        for server, names in SERVERS.items():
            if name in names:
                used[server] += (int(fields[11]) + int(fields[12])) / ticks
    return used


def check_invariants(room_ids) -> list[str]:
    from django.db.models import Sum

    from gifts import leaderboards, ledger
    from gifts.models import Balance, GiftSend
    from rooms.models import Room

    problems = ledger.audit()
    spent = dict(GiftSend.objects.values_list("sender_id").annotate(Sum("coins")))
    for user_id, coins in Balance.objects.filter(currency="coins").values_list("user_id", "amount"):
        if coins != COINS_EACH - int(spent.get(user_id, 0)):
            problems.append(f"sender {user_id}: {coins} coins left, spent {spent.get(user_id)}")
    stream_id = Room.objects.get(pk=room_ids[0]).current_stream_id
    board = leaderboards.stream_board(stream_id)
    live = dict(leaderboards.ranking(board, 0, 100_000)[0])
    recomputed = dict(leaderboards._ranking_from_database(board, 0, 100_000)[0])
    if live != recomputed:
        problems.append("the Redis board of a stream differs from the ledger's ranking")
    return problems


def summarise(name, results, cpu, seconds, senders, broadcasters, clients, problems) -> dict:
    ok = sorted(latency for latency, outcome in results if outcome == "ok")
    errors: dict[str, int] = {}
    for _, outcome in results:
        if outcome != "ok":
            errors[outcome] = errors.get(outcome, 0) + 1
    quantiles = statistics.quantiles(ok, n=100) if len(ok) > 1 else [0.0] * 99
    return {
        "scenario": name,
        "senders": senders,
        "broadcasters": broadcasters,
        "clients": clients,
        "seconds": seconds,
        "sends": len(ok),
        "per_second": len(ok) / seconds,
        "p50": quantiles[49] * 1000,
        "p99": quantiles[98] * 1000,
        "errors": ", ".join(f"{code}: {count}" for code, count in errors.items()) or "0",
        "invariants": "hold" if not problems else f"BROKEN: {problems[:3]}",
        # CPU milliseconds per successful send: the client processes (the service's Python),
        # MariaDB and Redis; what limits sends a second on two shared cores.
        "cpu_ms": {part: 1000 * used / max(len(ok), 1) for part, used in cpu.items()},
    }


def print_table(rows, command) -> None:
    print(f"\n`{command}`\n")
    print(
        "| scenario | senders | broadcasters | clients | seconds | sends ok | sends/s "
        "| p50 ms | p99 ms | CPU ms/send: clients + MariaDB + Redis | errors | invariants |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for row in rows:
        cpu = " + ".join(f"{used:.2f}" for used in row["cpu_ms"].values())
        print(
            f"| {row['scenario']} | {row['senders']} | {row['broadcasters']} | {row['clients']} "
            f"| {row['seconds']} | {row['sends']} | {row['per_second']:.0f} | {row['p50']:.1f} "
            f"| {row['p99']:.1f} | {cpu} | {row['errors']} | {row['invariants']} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=12, help="Load time per scenario.")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=6, help="Threads per process.")
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--broadcasters", type=int, default=50)
    options = parser.parse_args()
    for name, value in DEFAULT_ENV.items():
        os.environ.setdefault(name, value)
    if not os.environ["DATABASE_URL"].endswith(f"/{DATABASE}"):
        parser.error(f"refusing to run: the bench drops and recreates {DATABASE} only")
    recreate_database()
    run = uuid.uuid4().hex[:8]
    setup_django(run)
    from django.core.management import call_command
    from django.db import connections

    from gifts import leaderboards
    from livesite.celery import app

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: the manifest
    viewers, live = make_cast(options.senders, options.broadcasters)
    sender_ids, room_ids = [viewer.pk for viewer in viewers], [room.pk for room in live]
    connections.close_all()
    clients = f"{options.processes}x{options.threads}"
    rows = []
    scenarios = [
        ("spread", room_ids, True),
        ("hot row: one broadcaster", room_ids[:1], True),
        ("spread, no room frames", room_ids, False),
        ("hot row, no room frames", room_ids[:1], False),
    ]
    load_before = os.getloadavg()[0]
    for name, rooms, frames in scenarios:
        results, cpu = run_scenario(
            run, sender_ids, rooms, options.processes, options.threads, options.seconds, frames
        )
        problems = check_invariants(rooms)
        broadcasters = len(rooms)
        rows.append(
            summarise(
                name,
                results,
                cpu,
                options.seconds,
                len(sender_ids),
                broadcasters,
                clients,
                problems,
            )
        )
    app.control.purge()  # statistics refreshes queued for a worker this bench did not start
    boards = leaderboards.redis_client()
    for key in boards.scan_iter(f"bench-{run}:*"):
        boards.delete(key)
    argv = " ".join(sys.argv[1:])
    command = (
        f"DATABASE_URL={os.environ['DATABASE_URL']} REDIS_URL={os.environ['REDIS_URL']} "
        f".venv/bin/python bench/bench_gifts.py {argv}"
    ).strip()
    print_table(rows, command)
    print(
        f"\nmachine: {os.cpu_count()} cores shared by MariaDB, Redis and the load; "
        f"1-minute load average {load_before:.1f} before the run, "
        f"{os.getloadavg()[0]:.1f} after (other work on the machine counts too)."
    )
    print(
        "'no room frames': the same sends with realtime.publish.publish stubbed out, to show "
        "what the gift path costs apart from publishing to the room."
    )
    return 0 if all(row["invariants"] == "hold" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
