"""Gift sends through the real paths: the room socket's `gift.send` and REST, on N daphne processes.

    .venv/bin/python bench/bench_gift_paths.py --processes 2 --seconds 15
    .venv/bin/python bench/bench_gift_paths.py --processes 2 --compare /tmp/main-copy

bench/bench_gifts.py calls the service in-process; this one goes through what a
viewer's browser or app uses. Per code under test (this checkout, then --compare's):

1. its own database (recreated, migrated) and Redis db (emptied); a cast of senders
   with coins, signed in (a session cookie for the socket, a JWT for REST), and
   broadcasters whose rooms are live;
2. --processes daphne processes (DEBUG=0, MariaDB, Redis) serving Livesite;
3. --clients load processes: each socket sender is a room socket (spread over the
   processes and rooms) sending `gift.send` and waiting for `gift.sent`; each REST
   sender POSTs /api/rooms/<slug>/gifts/ with a bearer token on a kept-alive
   connection. Every sender keeps one send in flight and at most --per-sender-rate
   a second (the socket allows 5 a second per user), so the offered load is
   senders x that rate;
4. afterwards the invariants: the ledger audit (every balance equals its entries, none
   negative, every gift's entries match), each sender's coins equal the grant minus
   their sends, one send per idempotency key and as many sends as answered receipts
   (no double charge, nothing charged unanswered), each live stream's Redis board
   equal to the ranking recomputed from the database.

Also printed: Redis commands per send answered (INFO commandstats before and after the
load: on a shared Redis that counts others' commands too, so use a private one).
--profile DIR writes py-spy's collapsed stacks of the first daphne process.

Uses its own database (livesite_bench_gift_paths) and Redis db 8 unless told.
Hand-written HTTP/1.1 client: the venv has no async HTTP client, and one kept-alive
connection per sender is all this needs.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# A step run for --compare's checkout has it on PYTHONPATH: its code, not this one's.
if str(REPO) not in sys.path and not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(REPO))

COINS_EACH = 1_000_000
GIFTS = ["heart", "rose", "ice-cream", "donut"]
QUANTITIES = [1, 1, 1, 10]


# --- Seeding and checks: run as `--seed` / `--check` in the servers' environment ----------


def seed(socket_senders: int, rest_senders: int, broadcasters: int) -> dict:
    import django

    django.setup()
    from bench_gifts import first_of
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.test import Client

    from accounts.api import ThrottledTokenSerializer
    from accounts.models import User
    from rooms import services as rooms

    grant_coins = first_of("gifts.services.coins:grant_coins", "gifts.services:grant_coins")
    seed = first_of("gifts.catalog:seed_demo_catalog", "gifts.services:seed_demo_catalog")

    password = make_password(None)
    total = socket_senders + rest_senders
    User.objects.bulk_create(
        [User(username=f"gifter{n}", password=password) for n in range(total)]
        + [
            User(username=f"star{n}", password=password, is_broadcaster=True)
            for n in range(broadcasters)
        ]
    )
    seed()
    senders = list(User.objects.filter(username__startswith="gifter").order_by("pk"))
    for sender in senders:
        grant_coins(sender, COINS_EACH, "bench coins")
    slugs = []
    for star in User.objects.filter(is_broadcaster=True).order_by("pk"):
        room = rooms.create_room(star, f"{star.username} live")
        rooms.start_stream(room)
        slugs.append(room.slug)
    cookies, tokens = [], []
    for sender in senders[:socket_senders]:
        client = Client()
        client.force_login(sender)
        cookies.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    for sender in senders[socket_senders:]:
        tokens.append(str(ThrottledTokenSerializer.get_token(sender).access_token))
    return {"slugs": slugs, "cookies": cookies, "tokens": tokens}


def check(answered: int) -> list[str]:
    import django

    django.setup()
    from django.db.models import Count, Sum

    from gifts import leaderboards, ledger
    from gifts.models import Balance, GiftSend, Transfer
    from rooms.models import Room

    problems = ledger.audit()
    spent = dict(GiftSend.objects.values_list("sender_id").annotate(Sum("coins")))
    for user_id, coins in Balance.objects.filter(currency="coins").values_list("user_id", "amount"):
        if coins != COINS_EACH - int(spent.get(user_id, 0)):
            problems.append(f"sender {user_id}: {coins} coins left, spent {spent.get(user_id)}")
    twice = (
        Transfer.objects.filter(kind=Transfer.Kind.GIFT)
        .values("initiator_id", "idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if twice:
        problems.append(f"{twice} idempotency keys charged twice")
    stored = GiftSend.objects.count()
    if stored != answered:
        problems.append(f"{stored} sends stored but {answered} answered")
    for room in Room.objects.exclude(current_stream_id=None):
        board = leaderboards.stream_board(room.current_stream_id)
        live = dict(leaderboards.ranking(board, 0, 100_000)[0])
        recomputed = dict(leaderboards._ranking_from_database(board, 0, 100_000)[0])
        if live != recomputed:
            problems.append(f"the Redis board of stream {room.current_stream_id} differs")
    return problems


# --- Load: run as `--client` with its configuration on stdin ---------------------------------


class Tally:
    def __init__(self):
        self.latencies: dict[str, list[float]] = {"socket": [], "rest": []}
        self.errors: dict[str, int] = {}

    def error(self, path: str, code: str) -> None:
        key = f"{path}: {code}"
        self.errors[key] = self.errors.get(key, 0) + 1


def gift_body(randomly: random.Random) -> dict:
    return {
        "gift": randomly.choice(GIFTS),
        "quantity": randomly.choice(QUANTITIES),
        "idempotency_key": uuid.uuid4().hex,
    }


async def socket_sender(port, slug, cookie, until, interval, tally, started) -> None:
    import websockets

    randomly = random.Random()
    url = f"ws://127.0.0.1:{port}/ws/rooms/{slug}/"
    headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"sessionid={cookie}"}
    async with websockets.connect(url, additional_headers=headers, max_size=None) as socket:
        while json.loads(await socket.recv())["type"] != "hello":
            pass
        await started.wait()
        while time.monotonic() < until[0]:
            body = gift_body(randomly)
            began = time.monotonic()
            await socket.send(json.dumps({"type": "gift.send", **body}))
            while True:
                frame = json.loads(await socket.recv())
                if frame.get("idempotency_key") != body["idempotency_key"]:
                    continue  # room frames: gifts, boards, counts
                break
            if frame["type"] == "gift.sent":
                tally.latencies["socket"].append(time.monotonic() - began)
            else:
                tally.error("socket", frame.get("code", "?"))
            await asyncio.sleep(max(0.0, began + interval - time.monotonic()))


async def read_response(reader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return int(status_line.split()[1]), body


async def rest_sender(port, slug, token, until, interval, tally, started) -> None:
    randomly = random.Random()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await started.wait()
    try:
        while time.monotonic() < until[0]:
            body = json.dumps(gift_body(randomly)).encode()
            request = (
                f"POST /api/rooms/{slug}/gifts/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            began = time.monotonic()
            writer.write(request)
            status, answer = await read_response(reader)
            if status == 201:
                tally.latencies["rest"].append(time.monotonic() - began)
            else:
                try:
                    code = json.loads(answer).get("code", status)
                except ValueError:
                    code = status
                tally.error("rest", str(code))
            await asyncio.sleep(max(0.0, began + interval - time.monotonic()))
    finally:
        writer.close()


async def run_client(config: dict) -> dict:
    """Open every sender's connection, then send for `seconds` from the same moment."""
    tally = Tally()
    started = asyncio.Event()
    ports, slugs = config["ports"], config["slugs"]
    interval = 1 / config["per_sender_rate"]
    until = [0.0]  # set once every connection had `connect_seconds` to open

    async def one(sender, path, k, credential):
        port, slug = ports[k % len(ports)], slugs[k % len(slugs)]
        try:
            await sender(port, slug, credential, until, interval, tally, started)
        except Exception as error:  # counted, never hidden
            tally.error(path, type(error).__name__)

    tasks = [
        asyncio.ensure_future(one(socket_sender, "socket", k, cookie))
        for k, cookie in config["cookies"]
    ] + [asyncio.ensure_future(one(rest_sender, "rest", k, token)) for k, token in config["tokens"]]
    await asyncio.sleep(config["connect_seconds"])
    until[0] = time.monotonic() + config["seconds"]
    started.set()
    cpu = time.process_time()
    await asyncio.gather(*tasks)
    return {"latencies": tally.latencies, "errors": tally.errors, "cpu": time.process_time() - cpu}


# --- Orchestration ---------------------------------------------------------------------


def python() -> str:
    return str(REPO / ".venv" / "bin" / "python")


def in_environment(code_dir: Path, env: dict, *arguments: str) -> dict:
    done = subprocess.run(
        [python(), str(REPO / "bench" / "bench_gift_paths.py"), *arguments],
        cwd=code_dir,
        env={**env, "PYTHONPATH": str(code_dir)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{arguments[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def redis_commands(url: str) -> dict[str, int]:
    """Calls of each command the Redis server has run since it started (INFO commandstats)."""
    import redis

    stats = redis.Redis.from_url(url).info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


def profile(server, options, code_dir: Path) -> subprocess.Popen:
    """py-spy on the first daphne process while the senders send: collapsed stacks (on CPU)."""
    options.profile.mkdir(parents=True, exist_ok=True)
    output = options.profile / f"{code_dir.name}-daphne.txt"
    return subprocess.Popen(
        [
            str(REPO / ".venv" / "bin" / "py-spy"),
            "record",
            "--pid",
            str(server.process.pid),
            "--duration",
            str(int(options.seconds)),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(code_dir: Path, options) -> dict:
    import redis

    from bench.chat.environment import create_database, server_environment
    from bench.chat.servers import Server, free_port, stop_servers, wait_for_port

    env = server_environment(options.database_url, options.redis_url, {})
    env["PYTHONPATH"] = str(code_dir)
    # Pub/sub channels are not per Redis database: our own prefix keeps other work's
    # room events out of these rooms.
    env["REDIS_KEY_PREFIX"] = f"bench-gifts-{uuid.uuid4().hex[:8]}"
    create_database(options.database_url)
    redis.Redis.from_url(options.redis_url).flushdb()
    subprocess.run(
        [python(), "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=code_dir,
        env=env,
        check=True,
    )
    # DEBUG off: gift frames name their artwork through the static files' manifest.
    subprocess.run(
        [python(), "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=code_dir,
        env=env,
        check=True,
    )
    cast = in_environment(
        code_dir,
        env,
        "--seed",
        str(options.socket_senders),
        str(options.rest_senders),
        str(options.broadcasters),
    )
    log_dir = Path(tempfile.mkdtemp(prefix="bench-gift-paths-"))
    servers = []
    try:
        for n in range(options.processes):
            port = options.first_port + n if options.first_port else free_port()
            log = (log_dir / f"daphne-{port}.log").open("w")
            process = subprocess.Popen(
                [
                    python(),
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "livesite.asgi:application",
                ],
                cwd=code_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            servers.append(Server("ours", port, process, log_dir / f"daphne-{port}.log"))
        for server in servers:
            wait_for_port(server.port, server.process)
        ports = [server.port for server in servers]
        clients = []
        for n in range(options.clients):
            config = {
                "ports": ports,
                "slugs": cast["slugs"],
                "cookies": [
                    [k, c] for k, c in enumerate(cast["cookies"]) if k % options.clients == n
                ],
                "tokens": [
                    [k, t] for k, t in enumerate(cast["tokens"]) if k % options.clients == n
                ],
                "per_sender_rate": options.per_sender_rate,
                "seconds": options.seconds,
                "connect_seconds": options.connect_seconds,
            }
            client = subprocess.Popen(
                [python(), str(REPO / "bench" / "bench_gift_paths.py"), "--client"],
                cwd=REPO,
                env={**env, "PYTHONPATH": str(REPO)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            client.stdin.write(json.dumps(config) + "\n")
            client.stdin.close()
            clients.append(client)
        time.sleep(options.connect_seconds)
        load_average = os.getloadavg()[0]
        before = {s.pid: cpu_seconds(s.pid) for s in servers}
        profiler = profile(servers[0], options, code_dir) if options.profile else None
        commands_before = redis_commands(options.redis_url)
        outcomes = [json.loads(client.stdout.read().strip().splitlines()[-1]) for client in clients]
        for client in clients:
            client.wait()
        server_cpu = sum(cpu_seconds(s.pid) - before[s.pid] for s in servers)
        commands = redis_commands(options.redis_url)
        commands = {name: calls - commands_before.get(name, 0) for name, calls in commands.items()}
        if profiler is not None:
            profiler.wait()
    finally:
        stop_servers(servers)
    latencies = {"socket": [], "rest": []}
    errors: dict[str, int] = {}
    for outcome in outcomes:
        for path, values in outcome["latencies"].items():
            latencies[path].extend(values)
        for key, count in outcome["errors"].items():
            errors[key] = errors.get(key, 0) + count
    answered = sum(len(values) for values in latencies.values())
    problems = in_environment(code_dir, env, "--check", str(answered))["problems"]
    return {
        "code": str(code_dir),
        "answered": answered,
        "per_second": answered / options.seconds,
        "socket_per_second": len(latencies["socket"]) / options.seconds,
        "rest_per_second": len(latencies["rest"]) / options.seconds,
        "p50": quantile(latencies["socket"] + latencies["rest"], 0.5),
        "p99": quantile(latencies["socket"] + latencies["rest"], 0.99),
        "server_cpu_ms": 1000 * server_cpu / max(answered, 1),
        "errors": ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "0",
        "invariants": "hold" if not problems else f"BROKEN: {problems[:3]}",
        "load_average": load_average,
        "redis_per_send": {
            name: round(calls / max(answered, 1), 2)
            for name, calls in sorted(commands.items(), key=lambda item: -item[1])
            if calls
        },
    }


def print_rows(rows: list[dict]) -> None:
    print(
        "| code | sends/s answered | socket/s | REST/s | p50 ms | p99 ms | daphne CPU ms/send "
        "| load average | errors | invariants | ÷ first |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
    for row in rows:
        ratio = row["per_second"] / rows[0]["per_second"] if rows[0]["per_second"] else 0
        print(
            f"| {row['code']} | **{row['per_second']:.0f}** | {row['socket_per_second']:.0f} "
            f"| {row['rest_per_second']:.0f} | {row['p50']:.0f} | {row['p99']:.0f} "
            f"| {row['server_cpu_ms']:.2f} | {row['load_average']:.1f} | {row['errors']} "
            f"| {row['invariants']} | {ratio:.2f} |",
            flush=True,
        )
    for row in rows:
        print(f"\nRedis commands per send answered, {row['code']}: {row['redis_per_send']}")


def main() -> int:
    if sys.argv[1:2] == ["--seed"]:
        print(json.dumps(seed(*map(int, sys.argv[2:5]))))
        return 0
    if sys.argv[1:2] == ["--check"]:
        print(json.dumps({"problems": check(int(sys.argv[2]))}))
        return 0
    if sys.argv[1:2] == ["--client"]:
        import uvloop

        config = json.loads(sys.stdin.readline())
        print(json.dumps(uvloop.run(run_client(config))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="daphne processes")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connect-seconds", type=float, default=8)
    parser.add_argument("--socket-senders", type=int, default=160)
    parser.add_argument("--rest-senders", type=int, default=100)
    parser.add_argument("--per-sender-rate", type=float, default=4.0)
    parser.add_argument("--broadcasters", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument(
        "--first-port", type=int, help="daphne ports from here up (default: any free ports)"
    )
    parser.add_argument(
        "--profile", type=Path, help="a folder for py-spy's stacks of the first daphne process"
    )
    parser.add_argument("--compare", type=Path, help="another checkout, measured the same way")
    parser.add_argument(
        "--database-url", default="mysql://root@127.0.0.1:3306/livesite_bench_gift_paths"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    options = parser.parse_args()
    print(f"Command: `.venv/bin/python bench/bench_gift_paths.py {' '.join(sys.argv[1:])}`\n")
    offered = (options.socket_senders + options.rest_senders) * options.per_sender_rate
    print(
        f"{options.processes} daphne processes; {options.socket_senders} socket and "
        f"{options.rest_senders} REST senders at most {options.per_sender_rate:g}/s each "
        f"(offered: {offered:.0f} sends/s), {options.seconds:g} s; {os.cpu_count()} cores.\n",
        flush=True,
    )
    rows = [measure(REPO, options)]
    print_rows(rows)
    if options.compare:
        rows.append(measure(options.compare, options))
        print()
        print_rows(rows)
    return 0 if all(row["invariants"] == "hold" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
