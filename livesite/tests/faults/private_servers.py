"""A MariaDB server of a test's own, which it may kill and restart (Redis: tests.support.servers).

The shared servers on 3306 and 6379 serve every other test and process on the machine,
so a fault test never touches them: it starts a throwaway server on a free port in a
temporary folder, points the processes under test at it, and kills only that PID.
"""

from __future__ import annotations

import abc
import atexit
import functools
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{process.args[0]} did not listen on {port} within {timeout} s")


class PrivateServer(abc.ABC):
    """A server process that a test may SIGKILL and start again on the same port."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.process: subprocess.Popen | None = None

    @abc.abstractmethod
    def command(self) -> list[str]:
        """The server's command line (each kind of server says its own)."""

    def start(self, timeout: float = 30) -> None:
        with (self.folder / "server.log").open("a") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                self.command(), cwd=self.folder, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_listening(self.port, self.process, timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a crash or an OOM kill would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


class PrivateMariaDB(PrivateServer):
    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def command(self) -> list[str]:
        return [
            "mariadbd", "--no-defaults", f"--datadir={self.folder / 'data'}",
            f"--socket={self.folder / 'sock'}", f"--port={self.port}",
            "--bind-address=127.0.0.1", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci", "--user=root",
            "--skip-log-bin", "--innodb-buffer-pool-size=64M",
            f"--pid-file={self.folder / 'mariadbd.pid'}",
        ]  # fmt: skip

    def install(self) -> None:
        subprocess.run(
            [
                "mariadb-install-db", "--no-defaults", "--user=root",
                f"--datadir={self.folder / 'data'}", "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
        )  # fmt: skip

    def sql(self, statement: str, database: str = "") -> str:
        return subprocess.run(
            ["mariadb", "-uroot", "-h127.0.0.1", f"-P{self.port}", "-N", "-B", "-e", statement]
            + ([database] if database else []),
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip

    def copy_database_from(self, source: dict, name: str) -> None:
        """Copy a database (schema and rows) from another server, e.g. the test database."""
        self.sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        copy_database(source["HOST"], source["PORT"], source["NAME"], "127.0.0.1", self.port, name)

    def copy_database_to(self, name: str, target: dict) -> None:
        """Copy a database back over another server's, e.g. to check it with the ORM."""
        copy_database("127.0.0.1", self.port, name, target["HOST"], target["PORT"], target["NAME"])


def copy_database(from_host, from_port, from_name, to_host, to_port, to_name) -> None:
    """mariadb-dump | mariadb: tables are dropped and created again, rows and all."""
    dump = subprocess.Popen(
        [
            "mariadb-dump", "-uroot", f"-h{from_host or '127.0.0.1'}", f"-P{from_port or 3306}",
            "--single-transaction", from_name,
        ],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    subprocess.run(
        ["mariadb", "-uroot", f"-h{to_host or '127.0.0.1'}", f"-P{to_port or 3306}", to_name],
        stdin=dump.stdout, check=True, timeout=120,
    )  # fmt: skip
    dump.stdout.close()
    if dump.wait(timeout=60):
        raise RuntimeError("mariadb-dump failed")


@contextmanager
def private_mariadb():
    folder = Path(tempfile.mkdtemp(prefix="livesite-mariadb-"))
    server = PrivateMariaDB(folder, free_port())
    try:
        server.install()
        server.start(timeout=60)
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


class ReplicatingMariaDB(PrivateMariaDB):
    """A private MariaDB with a binary log and a server id: a primary, or a replica of one."""

    def __init__(self, folder: Path, port: int, server_id: int) -> None:
        super().__init__(folder, port)
        self.server_id = server_id

    def command(self) -> list[str]:
        arguments = [a for a in super().command() if a != "--skip-log-bin"]
        return [
            *arguments, f"--server-id={self.server_id}", "--log-bin=mariadb-bin",
            "--binlog-format=ROW", "--relay-log=relay-bin",
        ]  # fmt: skip

    def install(self) -> None:
        """A copy of one freshly installed data folder: installing costs seconds each time."""
        shutil.copytree(installed_data_folder(), self.folder / "data")

    def replicate_from(self, primary: PrivateMariaDB) -> None:
        self.sql(
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
            "MASTER_USER='root', MASTER_PASSWORD='', MASTER_CONNECT_RETRY=1; START SLAVE"
        )

    def replication_status(self) -> dict:
        lines = subprocess.run(  # vertical, with the column names that -N would drop
            ["mariadb", "-uroot", "-h127.0.0.1", f"-P{self.port}", "-e", "SHOW SLAVE STATUS\\G"],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout.splitlines()  # fmt: skip
        pairs = (line.strip().partition(": ") for line in lines if ": " in line)
        return {key: value for key, _, value in pairs}


@functools.cache
def installed_data_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="livesite-mariadb-template-"))
    PrivateMariaDB(folder, 0).install()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / "data"


@contextmanager
def private_primary_and_replica():
    """Two private MariaDB servers, the second replicating everything from the first."""
    folder = Path(tempfile.mkdtemp(prefix="livesite-replication-"))
    servers = []
    try:
        for server_id in (1, 2):
            (folder / str(server_id)).mkdir()
            server = ReplicatingMariaDB(folder / str(server_id), free_port(), server_id)
            servers.append(server)
            server.install()
            server.start(timeout=60)
        primary, replica = servers
        replica.replicate_from(primary)
        yield primary, replica
    finally:
        for server in servers:
            server.stop()


# The Sentinel test's block of ports (kept apart from tests.support.servers.PRIVATE_PORTS, which
# other fault tests' private servers take from).
SENTINEL_TEST_PORTS = range(19000, 19100)


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As redis-server binds: a port left in TIME_WAIT by a killed server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int, block: range = SENTINEL_TEST_PORTS, bus_offset: int = 0) -> list[int]:
    """`count` free ports of `block` (each with its port + `bus_offset` free too)."""
    found = []
    for port in block:
        if not _port_is_free(port) or (bus_offset and not _port_is_free(port + bus_offset)):
            continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"not {count} free ports in {block}")


class PrivateRedisNode(PrivateServer):
    """A redis-server keeping nothing on disk, optionally a replica of another."""

    def __init__(
        self, folder: Path, port: int, replica_of: int | None = None, password: str = ""
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder, port)
        self.replica_of = replica_of
        self.password = password

    def command(self) -> list[str]:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        if self.replica_of:
            command += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        if self.password:  # a replica may become the master: both ask and give it
            command += ["--requirepass", self.password, "--masterauth", self.password]
        return command


class PrivateSentinel(PrivateServer):
    """A redis-server in sentinel mode watching `master` on `master_port` (quorum 2)."""

    MASTER = "livesite-test"
    # Seconds before the sentinels call a silent master down; a failover follows within ~1 s.
    DOWN_AFTER_MS = 1000

    def __init__(self, folder: Path, port: int, master_port: int, password: str = "") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder, port)
        auth = (
            f"sentinel auth-pass {self.MASTER} {password}\nrequirepass {password}\n"
            f"sentinel sentinel-pass {password}\n"
            if password
            else ""
        )
        (folder / "sentinel.conf").write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
            f"sentinel monitor {self.MASTER} 127.0.0.1 {master_port} 2\n"
            f"sentinel down-after-milliseconds {self.MASTER} {self.DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {self.MASTER} 10000\n"
            f"sentinel parallel-syncs {self.MASTER} 1\n" + auth  # after the monitor line
        )

    def command(self) -> list[str]:
        return ["redis-server", str(self.folder / "sentinel.conf"), "--sentinel"]


class PrivateSentinelSet:
    """One master, one replica and three sentinels, all on the Sentinel test's ports."""

    def __init__(self, folder: Path, password: str = "") -> None:
        master, replica, *sentinels = _free_ports(5)
        self.password = password
        self.master = PrivateRedisNode(folder / "master", master, password=password)
        self.replica = PrivateRedisNode(
            folder / "replica", replica, replica_of=master, password=password
        )
        self.sentinels = [
            PrivateSentinel(folder / f"sentinel{n}", port, master, password)
            for n, port in enumerate(sentinels)
        ]

    @property
    def env(self) -> dict[str, str]:
        """The environment that points a Livesite process at this set through Sentinel."""
        return {
            "REDIS_URL": "",
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
            "REDIS_SENTINEL_MASTER": PrivateSentinel.MASTER,
            "REDIS_PASSWORD": self.password,
            "REDIS_SENTINEL_PASSWORD": self.password,
        }

    def client(self, port: int):
        import redis

        return redis.Redis("127.0.0.1", port, password=self.password or None, socket_timeout=2)

    def master_port(self) -> int:

        client = self.client(self.sentinels[0].port)
        try:
            return int(client.sentinel_get_master_addr_by_name(PrivateSentinel.MASTER)[1])
        finally:
            client.close()

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        for node in self.sentinels:
            node.start()
        import redis

        # Ready when the replica has synced and every sentinel knows the replica and the others.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                ready = all(
                    self.client(s.port).execute_command(
                        "SENTINEL", "CKQUORUM", PrivateSentinel.MASTER
                    )
                    and len(self.client(s.port).sentinel_slaves(PrivateSentinel.MASTER)) == 1
                    for s in self.sentinels
                )
                link = self.client(self.replica.port).info("replication")
                if ready and link.get("master_link_status") == "up":
                    return
            except redis.RedisError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the private sentinel set did not come up within 30 s")

    def stop(self) -> None:
        for node in [self.master, self.replica, *self.sentinels]:
            node.stop()


@contextmanager
def private_sentinel_set(password: str = ""):
    folder = Path(tempfile.mkdtemp(prefix="livesite-sentinel-"))
    servers = PrivateSentinelSet(folder, password)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)


# The Redis Cluster tests' block of ports (apart from the Sentinel test's and PRIVATE_PORTS),
# and of their cluster bus ports (by default a node's port + 10000, outside the block).
CLUSTER_TEST_PORTS = range(26000, 26100)
CLUSTER_BUS_OFFSET = 500


class PrivateClusterNode(PrivateRedisNode):
    """A redis-server in cluster mode, keeping nothing on disk but its nodes.conf."""

    NODE_TIMEOUT_MS = 1000  # a silent master is failed over after about two of these

    def command(self) -> list[str]:
        return [
            *super().command(), "--cluster-enabled", "yes",
            "--cluster-config-file", str(self.folder / "nodes.conf"),
            "--cluster-port", str(self.port + CLUSTER_BUS_OFFSET),
            "--cluster-node-timeout", str(self.NODE_TIMEOUT_MS),
            "--cluster-replica-validity-factor", "0",  # any replica may take over
        ]  # fmt: skip


class PrivateRedisCluster:
    """Three masters with a replica each, made with `redis-cli --cluster create`."""

    def __init__(self, folder: Path, masters: int = 3, replicas: int = 1, password: str = ""):
        ports = _free_ports(masters * (1 + replicas), CLUSTER_TEST_PORTS, CLUSTER_BUS_OFFSET)
        self.password = password
        self.replicas = replicas
        self.nodes = [
            PrivateClusterNode(folder / str(port), port, password=password) for port in ports
        ]

    @property
    def env(self) -> dict[str, str]:
        """REDIS_CLUSTER_NODES naming every node (clients need only one that answers)."""
        return {
            "REDIS_CLUSTER_NODES": ",".join(f"127.0.0.1:{n.port}" for n in self.nodes),
            "REDIS_PASSWORD": self.password,
        }

    @property
    def url(self) -> str:
        from livesite.config import cluster_url

        return cluster_url([("127.0.0.1", n.port) for n in self.nodes])

    def cli(self, *arguments: str, timeout: float = 60) -> str:
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        return subprocess.run(
            ["redis-cli", *auth, *arguments],
            check=True, capture_output=True, text=True, timeout=timeout,
        ).stdout  # fmt: skip

    def client(self, port: int):
        import redis

        return redis.Redis("127.0.0.1", port, password=self.password or None, socket_timeout=2)

    def node(self, port: int) -> PrivateClusterNode:
        return next(n for n in self.nodes if n.port == port)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        self.cli("--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas),
                 "--cluster-yes")  # fmt: skip
        self.wait_until_ok(30)

    def cluster_info(self, port: int) -> dict:
        return self.client(port).cluster("info")

    def wait_until_ok(self, timeout: float, without: tuple[int, ...] = ()) -> None:
        """Every live node says cluster_state:ok and sees every slot served (and, with
        replicas, every master's replica linked)."""
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                alive = [n for n in self.nodes if n.port not in without]
                if all(self.cluster_info(n.port)["cluster_state"] == "ok" for n in alive):
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the private cluster was not ok within {timeout} s")

    def masters(self) -> dict[int, list[int]]:
        """Each live master's port and the ports of its live replicas."""
        import redis

        for node in self.nodes:
            try:
                lines = self.client(node.port).execute_command("CLUSTER", "NODES")
            except redis.RedisError:
                continue
            if isinstance(lines, bytes):
                lines = lines.decode()
            rows = [line.split() for line in lines.strip().splitlines()]
            live = [r for r in rows if "fail" not in r[2] and "fail?" not in r[2]]
            ids = {r[0]: int(r[1].split("@")[0].rsplit(":", 1)[1]) for r in live}
            found = {ids[r[0]]: [] for r in live if "master" in r[2] and r[8:]}
            for r in live:
                if "slave" in r[2] and ids.get(r[3]) in found:
                    found[ids[r[3]]].append(ids[r[0]])
            return found
        raise RuntimeError("no cluster node answers")

    def master_of_slot(self, slot: int) -> int:
        import redis

        for node in self.nodes:
            try:
                slots = self._slots(node.port)
            except redis.RedisError:
                continue
            for start, end, master in slots:
                if start <= slot <= end:
                    return master
        raise RuntimeError(f"no master serves slot {slot}")

    def _slots(self, port: int) -> list[tuple[int, int, int]]:
        rows = self.client(port).execute_command("CLUSTER", "SLOTS")
        return [(int(r[0]), int(r[1]), int(r[2][1])) for r in rows]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@contextmanager
def private_redis_cluster(password: str = "", replicas: int = 1):
    folder = Path(tempfile.mkdtemp(prefix="livesite-cluster-"))
    servers = PrivateRedisCluster(folder, replicas=replicas, password=password)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)
