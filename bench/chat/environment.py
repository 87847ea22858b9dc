"""The benchmark's own services and settings: a MariaDB database, a Redis db, the cast.

Everything the servers under test read comes from the environment built
here (as in production, livesite/settings.py parses it), so the project's
daphne and the baseline's daphne get identical settings.
"""

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import MySQLdb
import redis

from bench.chat.servers import PYTHON, REPO

DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/livesite_bench_chat"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


@dataclass
class Setup:
    env: dict[str, str]
    redis_url: str
    slug: str
    session_ids: list[str]
    log_dir: Path

    def flush_redis(self) -> None:
        """Empty the benchmark's Redis db: no group members or buckets left by a past server."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()


def server_environment(database_url: str, redis_url: str, chat_settings: dict) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="livesite.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),  # the servers and the seed must share it
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
    )
    env.update({name: str(value) for name, value in chat_settings.items()})
    return env


def create_database(database_url: str) -> None:
    """A new, empty database: the schema is whatever the apps' migrations make today."""
    parts = urlsplit(database_url)
    connection = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        passwd=unquote(parts.password or ""),
    )
    try:
        name = parts.path.lstrip("/")
        if not name.replace("_", "").isalnum() or "bench" not in name:
            raise ValueError(f"the benchmark drops its database: {name!r} must contain 'bench'")
        cursor = connection.cursor()
        # Dropped and made again each run: other engineers add models while it runs.
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        connection.close()


def prepare(
    database_url: str, redis_url: str, chat_settings: dict, senders: int, log_dir: Path
) -> Setup:
    """Create and migrate the database, empty the Redis db, seed the room and senders."""
    env = server_environment(database_url, redis_url, chat_settings)
    create_database(database_url)
    setup = Setup(env, redis_url, "", [], log_dir)
    setup.flush_redis()
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
    )
    seeded = subprocess.run(
        [str(PYTHON), "-m", "bench.chat.seed", str(senders)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    cast = json.loads(seeded.stdout.strip().splitlines()[-1])
    setup.slug, setup.session_ids = cast["slug"], cast["session_ids"]
    return setup
