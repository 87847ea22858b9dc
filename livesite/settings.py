"""Django settings for Livesite, read from the environment (see docs/operations.md).

With no variables set, Livesite runs on embedded defaults that need no server:
SQLite, an in-memory channel layer, the local-memory cache and eager Celery.
`DATABASE_URL` and `REDIS_URL` (and optionally `CELERY_BROKER_URL`) switch to
the production services; nothing else changes.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured

from infra.task_queues import task_queue
from livesite.config import (
    BROKER_SCHEMES,
    REDIS_SCHEMES,
    cluster_url,
    development_secret_key,
    env_bool,
    env_choice,
    env_cidrs,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_port_range,
    env_sentinels,
    env_str,
    parse_database_url,
    parse_email_url,
    parse_service_url,
    sentinel_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LIVESITE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Random per install (var/secret_key), never a key anyone can read in the source.
    SECRET_KEY = development_secret_key(VAR_DIR / "secret_key")

# With DEBUG on, `manage.py serve` and `manage.py ingest` listen on loopback only, unless this.
DEBUG_ALLOW_PUBLIC_BIND = env_bool("DEBUG_ALLOW_PUBLIC_BIND", False)

# Debug pages and error reports hide service URLs (they carry passwords), not only *KEY*.
DEFAULT_EXCEPTION_REPORTER_FILTER = "infra.error_reports.SettingsHidingFilter"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = env_str("SITE_NAME", "Livesite")
# Tests and the CI script set this: a test that needs a missing service fails instead of skipping.
REQUIRE_SERVICES = env_bool("LIVESITE_REQUIRE_SERVICES", False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",  # accounts.services.revoke_api_tokens
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "realtime",
    "accounts",
    "rooms",
    "streaming",
    "chat",
    "gifts",
    "moderation",
    "notifications",
    "discovery",
    "clips",
    "livesite",  # the site-level commands (demo)
]

MIDDLEWARE = [
    "infra.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "infra.read_replica.ReadYourWritesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it is the first to see a view's exception: a lost database is a 503.
    "infra.database_unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "livesite.urls"
ASGI_APPLICATION = "livesite.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "livesite.context_processors.site",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded SQLite file lives here
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'livesite.sqlite3'}"
DATABASES = {"default": parse_database_url(DATABASE_URL)}
# MySQL connections a process may hold, and how long a request waits for one before
# a 503 (infra/db/pool.py). 20 leaves room for several web processes, workers and
# the ingest under MariaDB's default max_connections of 151.
DATABASE_MAX_CONNECTIONS = env_int("DATABASE_MAX_CONNECTIONS", 20, minimum=1)
DATABASE_CONNECTION_WAIT = env_int("DATABASE_CONNECTION_WAIT", 10, minimum=0)
# A MariaDB read replica for reads that may be a few seconds stale (infra.read_replica).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = parse_database_url(DATABASE_REPLICA_URL, "DATABASE_REPLICA_URL")
    if DATABASES["replica"]["ENGINE"].endswith("mysql"):
        DATABASES["replica"]["OPTIONS"]["connect_timeout"] = 2  # fall back fast
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["infra.read_replica.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 5, minimum=0)
DATABASE_REPLICA_CHECK_SECONDS = env_float("DATABASE_REPLICA_CHECK_SECONDS", 2, minimum=0)
# Longer than the lag allowed, so a user's own write has reached the replica when it ends.
DATABASE_REPLICA_STICKY_SECONDS = env_int(
    "DATABASE_REPLICA_STICKY_SECONDS", DATABASE_REPLICA_MAX_LAG_SECONDS + 5, minimum=1
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, sessions, Celery --------------------------
REDIS_URL = env_str("REDIS_URL")
# Redis through Sentinel: the sentinels find the master, and clients follow a failover.
# REDIS_URL then holds a redis+sentinel:// address built from these (realtime.redis_client).
REDIS_SENTINELS = env_sentinels("REDIS_SENTINELS")
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER")
REDIS_SENTINEL_PASSWORD = env_str("REDIS_SENTINEL_PASSWORD")
REDIS_PASSWORD = env_str("REDIS_PASSWORD")
REDIS_SENTINEL_DB = env_int("REDIS_SENTINEL_DB", 0, minimum=0)
if REDIS_SENTINELS:
    if REDIS_URL:
        raise ImproperlyConfigured("set REDIS_URL or REDIS_SENTINELS, not both")
    if not REDIS_SENTINEL_MASTER or not REDIS_SENTINEL_MASTER.replace("-", "").isalnum():
        raise ImproperlyConfigured(
            "REDIS_SENTINEL_MASTER must name the master the sentinels monitor (letters, "
            f"digits, dashes; got {REDIS_SENTINEL_MASTER!r})"
        )
    REDIS_URL = sentinel_url(REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_SENTINEL_DB)
elif REDIS_SENTINEL_MASTER:
    raise ImproperlyConfigured("REDIS_SENTINEL_MASTER needs REDIS_SENTINELS")
# Redis Cluster for the site's data: cache and sessions, presence, rate limits, leaderboards,
# top comments, live locks and room events (sharded pub/sub). channels_redis and Celery's
# Redis transport speak to one Redis only, so the channel layer (and Celery, unless
# CELERY_BROKER_URL names RabbitMQ) stay on REDIS_URL or REDIS_SENTINELS, which must be set
# too. REDIS_PASSWORD is the cluster nodes' password as well. docs/operations.md.
REDIS_CLUSTER_NODES = env_sentinels("REDIS_CLUSTER_NODES")
REDIS_CLUSTER_URL = cluster_url(REDIS_CLUSTER_NODES) if REDIS_CLUSTER_NODES else ""
if REDIS_CLUSTER_NODES and not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_CLUSTER_NODES needs REDIS_URL or REDIS_SENTINELS as well: the channel layer "
        "and Celery's Redis cannot use a cluster"
    )
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "livesite")
# Every Redis client gets these (realtime.redis_client.client_options): a call to a Redis
# that hangs fails in seconds instead of holding a request, the chat feed or the live lock
# forever, and idle connections are pinged so a silently dropped one is noticed.
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 5, minimum=1)
REDIS_CONNECT_TIMEOUT = env_int("REDIS_CONNECT_TIMEOUT", 5, minimum=1)
REDIS_HEALTH_CHECK_INTERVAL = env_int("REDIS_HEALTH_CHECK_INTERVAL", 15, minimum=0)
REDIS_CLIENT_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_keepalive": True,
    "health_check_interval": REDIS_HEALTH_CHECK_INTERVAL,
}
if REDIS_URL and not REDIS_SENTINELS:
    parse_service_url("REDIS_URL", REDIS_URL, REDIS_SCHEMES)
if REDIS_SENTINELS:
    _sentinel_options = {"password": REDIS_SENTINEL_PASSWORD or None, **REDIS_CLIENT_OPTIONS}
    _channel_host = {
        "sentinels": REDIS_SENTINELS,
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": _sentinel_options,
        "db": REDIS_SENTINEL_DB,
        "password": REDIS_PASSWORD or None,
    }
else:
    _channel_host = {"address": REDIS_URL}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # A read timeout above channels_redis' own 5 s blocking pop, which would otherwise
            # time out while it waits for an event.
            "CONFIG": {
                "hosts": [
                    {
                        **_channel_host,
                        **REDIS_CLIENT_OPTIONS,
                        "socket_timeout": max(10, REDIS_SOCKET_TIMEOUT),
                    }
                ],
                "prefix": "livesite",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "realtime.cache.RedisCache",
            # A list: a sentinel or cluster address holds commas.
            "LOCATION": [REDIS_CLUSTER_URL or REDIS_URL],
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": REDIS_CLIENT_OPTIONS,
        }
    }
    # Sessions live in the cache for speed and in the database for durability.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 10_000},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Through Sentinel, Celery uses kombu's and its own sentinel:// transports, one address per
# sentinel, with the master's name in the transport options.
_celery_redis_url = REDIS_URL
_sentinel_transport = {}
if REDIS_SENTINELS:
    _auth = f":{quote(REDIS_PASSWORD, safe='')}@" if REDIS_PASSWORD else ""
    _celery_redis_url = ";".join(
        f"sentinel://{_auth}{f'[{host}]' if ':' in host else host}:{port}/{REDIS_SENTINEL_DB}"
        for host, port in REDIS_SENTINELS
    )
    _sentinel_transport = {
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": {"password": REDIS_SENTINEL_PASSWORD or None},
    }
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _celery_redis_url)
if CELERY_BROKER_URL:
    for _url in CELERY_BROKER_URL.split(";"):
        parse_service_url("CELERY_BROKER_URL", _url, BROKER_SCHEMES)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _celery_redis_url)
if CELERY_RESULT_BACKEND:
    for _url in CELERY_RESULT_BACKEND.split(";"):
        parse_service_url("CELERY_RESULT_BACKEND", _url, REDIS_SCHEMES | {"sentinel"})
# With no broker, tasks run in the caller's process: the one-command start needs no worker.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Redis as broker or result backend: the same timeouts as every other Redis client.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    dict(REDIS_CLIENT_OPTIONS) if CELERY_BROKER_URL.startswith(("redis", "unix")) else {}
)
if CELERY_BROKER_URL.startswith("sentinel"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {**REDIS_CLIENT_OPTIONS, **_sentinel_transport}
if CELERY_RESULT_BACKEND.startswith("sentinel"):
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = dict(_sentinel_transport)
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_KEEPALIVE = True
CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = REDIS_HEALTH_CHECK_INTERVAL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# RabbitMQ: replicated quorum queues with a dead-letter queue for poison messages
# (infra.task_queues). After CELERY_DELIVERY_LIMIT redeliveries a task is dead-lettered.
CELERY_QUORUM_QUEUES = CELERY_BROKER_URL.startswith(("amqp", "pyamqp"))
CELERY_DELIVERY_LIMIT = env_int("CELERY_DELIVERY_LIMIT", 5, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "celery")
if CELERY_QUORUM_QUEUES:
    CELERY_TASK_QUEUES = [task_queue(CELERY_TASK_DEFAULT_QUEUE, CELERY_DELIVERY_LIMIT)]
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"  # native delayed delivery needs topic
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
# Tasks that take milliseconds (scoring, statistics): a few in hand per process hide the
# broker round trip. On RabbitMQ a dead worker's prefetched tasks return at once; on
# Redis only after the visibility timeout, so there one at a time.
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int(
    "CELERY_PREFETCH_MULTIPLIER", 4 if CELERY_QUORUM_QUEUES else 1, minimum=1
)
# `celery -A livesite beat`. Without a broker, `manage.py serve` runs the same tasks on
# the same schedule in its own process (livesite/management/commands/serve.py).
CELERY_BEAT_SCHEDULE = {
    "end-abandoned-streams": {"task": "rooms.end_abandoned_streams", "schedule": 60.0},
    "delete-expired-replays": {"task": "streaming.delete_expired_replays", "schedule": 900.0},
    "expire-held-messages": {"task": "moderation.expire_held_messages", "schedule": 30.0},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True


# --- Gifts ------------------------------------------------------------------
def _env_quantities(name: str, default: list[str]) -> tuple[int, ...]:
    raw = env_list(name, default)
    if not raw or not all(item.isdigit() and int(item) > 0 for item in raw):
        raise ImproperlyConfigured(
            f"{name} must be whole numbers above 0, comma-separated (got {raw!r})"
        )
    return tuple(int(item) for item in raw)


def _env_coin_packages(name: str, default: str) -> tuple[tuple[int, str], ...]:
    packages = []
    for item in env_list(name, default.split(",")):
        coins, _, price = item.partition(":")
        if not coins.isdigit() or not price:
            raise ImproperlyConfigured(f"{name} must look like 70:0.99,350:4.99 (got {item!r})")
        packages.append((int(coins), price))
    return tuple(packages)


GIFTS_QUANTITIES = _env_quantities("GIFTS_QUANTITIES", ["1", "10", "99"])
GIFTS_BROADCASTER_SHARE_PERCENT = env_int("GIFTS_BROADCASTER_SHARE_PERCENT", 50, minimum=0)
if GIFTS_BROADCASTER_SHARE_PERCENT > 100:
    raise ImproperlyConfigured("GIFTS_BROADCASTER_SHARE_PERCENT must be at most 100")
GIFTS_COMBO_WINDOW_SECONDS = env_int("GIFTS_COMBO_WINDOW_SECONDS", 5, minimum=1)
GIFTS_EARNINGS_SLOTS = env_int("GIFTS_EARNINGS_SLOTS", 16, minimum=1)
GIFTS_CATALOG_CACHE_SECONDS = env_int("GIFTS_CATALOG_CACHE_SECONDS", 5, minimum=0)
GIFTS_LEADERBOARD_REDIS_URL = env_str(
    "GIFTS_LEADERBOARD_REDIS_URL", REDIS_CLUSTER_URL or REDIS_URL
)
# Empty: `<REDIS_KEY_PREFIX>:gifts:lb`, following REDIS_KEY_PREFIX (gifts/conf.py).
GIFTS_LEADERBOARD_KEY_PREFIX = env_str("GIFTS_LEADERBOARD_KEY_PREFIX")
GIFTS_LEADERBOARD_PUBLISH_INTERVAL = env_int("GIFTS_LEADERBOARD_PUBLISH_INTERVAL", 2, minimum=1)
GIFTS_LEADERBOARD_ROOM_SIZE = env_int("GIFTS_LEADERBOARD_ROOM_SIZE", 10, minimum=1)
GIFTS_LEADERBOARD_RECONCILE_MINUTES = env_int("GIFTS_LEADERBOARD_RECONCILE_MINUTES", 10, minimum=1)
GIFTS_LEADERBOARD_RECONCILE_DAYS = env_int("GIFTS_LEADERBOARD_RECONCILE_DAYS", 8, minimum=1)
CELERY_BEAT_SCHEDULE["reconcile-leaderboards"] = {
    "task": "gifts.reconcile_leaderboards",
    "schedule": GIFTS_LEADERBOARD_RECONCILE_MINUTES * 60.0,
}
GIFTS_STATS_DELAY_SECONDS = env_int("GIFTS_STATS_DELAY_SECONDS", 30, minimum=1)
GIFTS_STATS_SWEEP_MINUTES = env_int("GIFTS_STATS_SWEEP_MINUTES", 120, minimum=4)
GIFTS_COIN_PACKAGES = _env_coin_packages(
    "GIFTS_COIN_PACKAGES", "70:0.99,350:4.99,1400:19.99,7000:99.99"
)
GIFTS_PRICE_CURRENCY = env_str("GIFTS_PRICE_CURRENCY", "USD")
GIFTS_PAYMENT_PROVIDER = env_str(
    "GIFTS_PAYMENT_PROVIDER", "gifts.payments.PlaceholderPaymentProvider"
)
# The placeholder provider gives coins away: it sells only on a declared demo (on with DEBUG).
GIFTS_DEMO_PAYMENTS = env_bool("GIFTS_DEMO_PAYMENTS", DEBUG)
GIFTS_MAX_GRANT = env_int("GIFTS_MAX_GRANT", 1_000_000, minimum=1)
GIFTS_DEMO_COINS = env_int("GIFTS_DEMO_COINS", 5000, minimum=0)
# Threads per web process for gift sends from the chat socket (each may hold a database
# connection); infra/thread_pools.py.
GIFTS_SEND_THREADS = env_int("GIFTS_SEND_THREADS", 6, minimum=1)
# A task whose worker died is handed to another after this long; must exceed the longest countdown.
# (Added to the Redis client options and Sentinel options above, not replacing them.)
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
    "CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60
)

# --- Chat ---------------------------------------------------------------------
CHAT_MESSAGE_MAX_CHARS = env_int("CHAT_MESSAGE_MAX_CHARS", 300, minimum=1)
CHAT_RATE_PER_MINUTE = env_int("CHAT_RATE_PER_MINUTE", 60, minimum=1)
CHAT_RATE_BURST = env_int("CHAT_RATE_BURST", 5, minimum=1)
CHAT_HISTORY_ON_JOIN = env_int("CHAT_HISTORY_ON_JOIN", 50, minimum=0)
CHAT_RESUME_LIMIT = env_int("CHAT_RESUME_LIMIT", 500, minimum=1)
# `resume` frames a socket may send a minute (a reconnecting client sends one).
CHAT_RESUMES_PER_MINUTE = env_int("CHAT_RESUMES_PER_MINUTE", 6, minimum=1)
# Bytes a socket may have waiting unread before it is closed as a slow consumer (4408).
WEBSOCKET_SEND_BUFFER_BYTES = env_int("WEBSOCKET_SEND_BUFFER_BYTES", 1024 * 1024, minimum=65536)
CHAT_BATCH_WINDOW_MS = env_int("CHAT_BATCH_WINDOW_MS", 100, minimum=0)
# Above this many viewers on one process, the batch window doubles (realtime/fan_out.py).
CHAT_BIG_ROOM_VIEWERS = env_int("CHAT_BIG_ROOM_VIEWERS", 2500, minimum=1)
CHAT_JOIN_NOTICES_UP_TO = env_int("CHAT_JOIN_NOTICES_UP_TO", 200, minimum=0)
CHAT_LIKES_PER_FRAME = env_int("CHAT_LIKES_PER_FRAME", 50, minimum=1)
CHAT_FRAMES_PER_SECOND = env_int("CHAT_FRAMES_PER_SECOND", 20, minimum=1)
# A dead web process's viewers leave every room's counts within this many seconds.
CHAT_PRESENCE_TTL = env_int("CHAT_PRESENCE_TTL", 45, minimum=3)

# --- Live video: ingest, transcoder, HLS origin ---------------------------------
# Where transcoders write HLS, one folder per room slug; the origin serves it at /hls/.
# Safety net of the room and directory cache (rooms/cache.py); changes invalidate at once.
ROOM_CACHE_SECONDS = env_int("ROOM_CACHE_SECONDS", 60, minimum=1)
# How long a search query's matches are reused (live status is laid over them fresh).
SEARCH_CACHE_SECONDS = env_int("SEARCH_CACHE_SECONDS", 15, minimum=0)
HLS_ROOT = Path(env_str("HLS_ROOT", str(VAR_DIR / "hls")))
# Threads per web process reading HLS files for the origin (infra/thread_pools.py).
ORIGIN_READ_THREADS = env_int("ORIGIN_READ_THREADS", 4, minimum=1)
# Loopback unless set: production sets 0.0.0.0 (or an interface) for encoders to reach it.
INGEST_HOST = env_str("INGEST_HOST", "127.0.0.1")
INGEST_PORT = env_int("INGEST_PORT", 1935, minimum=0)
INGEST_APP = env_str("INGEST_APP", "live")
# Shown on the dashboard as OBS's "Server"; empty means rtmp://<page host>:INGEST_PORT/INGEST_APP.
INGEST_PUBLIC_URL = env_str("INGEST_PUBLIC_URL")
INGEST_RECONNECT_GRACE = env_int("INGEST_RECONNECT_GRACE", 30, minimum=0)
INGEST_LOCK_TTL = env_int("INGEST_LOCK_TTL", 15, minimum=3)
INGEST_KEY_CHECK_MS = env_int("INGEST_KEY_CHECK_MS", 1000, minimum=50)
INGEST_MAX_TRANSCODER_RESTARTS = env_int("INGEST_MAX_TRANSCODER_RESTARTS", 3, minimum=0)
# What one RTMP peer may cost before and after its stream key is accepted.
INGEST_MAX_CONNECTIONS = env_int("INGEST_MAX_CONNECTIONS", 1000, minimum=1)
INGEST_MAX_CONNECTIONS_PER_ADDRESS = env_int("INGEST_MAX_CONNECTIONS_PER_ADDRESS", 8, minimum=1)
INGEST_BYTES_BEFORE_PUBLISH = env_int("INGEST_BYTES_BEFORE_PUBLISH", 65536, minimum=4096)
INGEST_HANDSHAKE_TIMEOUT = env_int("INGEST_HANDSHAKE_TIMEOUT", 5, minimum=1)
INGEST_IDLE_TIMEOUT = env_int("INGEST_IDLE_TIMEOUT", 30, minimum=1)
# Several ingest machines (docs/scaling.md): this ingest's name and the internal
# host:port where the edge nginx reaches its HLS folder (deploy/nginx-hls-node.conf). Set
# both to register held rooms next to their live lock (streaming/hls_nodes.py); empty:
# one machine, nothing registered.
INGEST_NODE_ID = env_str("INGEST_NODE_ID")
INGEST_NODE_HLS_ADDRESS = env_str("INGEST_NODE_HLS_ADDRESS")
if bool(INGEST_NODE_ID) != bool(INGEST_NODE_HLS_ADDRESS):
    raise ImproperlyConfigured("set INGEST_NODE_ID and INGEST_NODE_HLS_ADDRESS together")
if INGEST_NODE_HLS_ADDRESS and not re.fullmatch(r"[-A-Za-z0-9.]+:\d{1,5}", INGEST_NODE_HLS_ADDRESS):
    raise ImproperlyConfigured("INGEST_NODE_HLS_ADDRESS must be host:port")
if INGEST_NODE_ID and not re.fullmatch(r"[-A-Za-z0-9_.]{1,64}", INGEST_NODE_ID):
    raise ImproperlyConfigured("INGEST_NODE_ID: letters, digits, '-', '_', '.' (at most 64)")
# The web origin answers /hls/ with X-Accel-Redirect to the node holding the room
# (deploy/nginx-hls-edge-cluster.conf) instead of reading HLS_ROOT; needs Redis.
HLS_NODE_ROUTING = env_bool("HLS_NODE_ROUTING", False)
if (HLS_NODE_ROUTING or INGEST_NODE_ID) and not REDIS_URL:
    raise ImproperlyConfigured("HLS_NODE_ROUTING and INGEST_NODE_ID need REDIS_URL")
TRANSCODER_SEGMENT_SECONDS = env_int("TRANSCODER_SEGMENT_SECONDS", 2, minimum=1)
# Low-Latency HLS part length; players stay about three parts behind the live edge.
TRANSCODER_PART_SECONDS = env_float("TRANSCODER_PART_SECONDS", 0.333, minimum=0.1)
TRANSCODER_LADDER = env_str("TRANSCODER_LADDER", "720,480,360")
TRANSCODER_PRESET = env_str("TRANSCODER_PRESET", "veryfast")
# Every stream's full recording is kept as a replay this long; 0 keeps none.
REPLAY_RETENTION_HOURS = env_int("REPLAY_RETENTION_HOURS", 168, minimum=0)
# A replay keeps at most about the last this many hours of its stream (0: all of it), so a
# stream that never ends cannot fill the disk.
REPLAY_MAX_HOURS = env_int("REPLAY_MAX_HOURS", 12, minimum=0)
# WebRTC (WHIP ingest): STUN/TURN servers (stun:HOST:PORT, turn:HOST:PORT?transport=udp)
# used for our candidates and offered to publishers in Link headers; none by default (host
# candidates only). The public address is announced beside host candidates behind a 1:1 NAT.
WEBRTC_ICE_SERVERS = env_list("WEBRTC_ICE_SERVERS")
WEBRTC_TURN_USERNAME = env_str("WEBRTC_TURN_USERNAME")
WEBRTC_TURN_CREDENTIAL = env_str("WEBRTC_TURN_CREDENTIAL")
WEBRTC_PUBLIC_ADDRESS = env_str("WEBRTC_PUBLIC_ADDRESS")
# The ingest's host candidates bind UDP ports in this range ("40000-40999"), for a firewall
# to open; unset, the kernel picks any ephemeral port.
WEBRTC_UDP_PORTS = env_port_range("WEBRTC_UDP_PORTS")
# A WHIP session that has not connected by then ends, and releases its room.
WEBRTC_CONNECT_TIMEOUT = env_int("WEBRTC_CONNECT_TIMEOUT", 10, minimum=1)
# WHIP (and WHEP) offers one client address may send per minute.
WHIP_OFFERS_PER_MINUTE = env_int("WHIP_OFFERS_PER_MINUTE", 12, minimum=1)
# Real-time (WHEP) viewers one ingest process takes (joining or watching; 0: none), and
# how many may join per second (a burst of one second's worth): over either, 503 with
# Retry-After, and the room page plays HLS. Joins are DTLS handshakes on the ingest's loop.
WHEP_MAX_VIEWERS_PER_INGEST = env_int("WHEP_MAX_VIEWERS_PER_INGEST", 100, minimum=0)
WHEP_JOINS_PER_SECOND = env_float("WHEP_JOINS_PER_SECOND", 10.0, minimum=0.1)
HLS_PLAYLIST_MAX_AGE = env_int("HLS_PLAYLIST_MAX_AGE", 1, minimum=0)
HLS_SEGMENT_MAX_AGE = env_int("HLS_SEGMENT_MAX_AGE", 31_536_000, minimum=0)

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "rooms:directory"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed log-ins per account before each further try waits LOGIN_DELAY_SECONDS, doubling
# up to LOGIN_DELAY_MAX_SECONDS (accounts/services.py); failures per client address in the window.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_DELAY_SECONDS = env_int("LOGIN_DELAY_SECONDS", 30, minimum=1)
LOGIN_DELAY_MAX_SECONDS = env_int("LOGIN_DELAY_MAX_SECONDS", 900, minimum=1)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=1)
SIGNUP_LIMIT_PER_ADDRESS = env_int("SIGNUP_LIMIT_PER_ADDRESS", 10, minimum=1)
SIGNUP_WINDOW = env_int("SIGNUP_WINDOW", 3600, minimum=1)

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    # A service's DomainError becomes its status and {"code", "message", ...} in one place.
    "EXCEPTION_HANDLER": "livesite.api_errors.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: an unauthenticated call then gets 401 with a Bearer challenge.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's own classes, with the client address from infra.client_address.
        "infra.throttling.AnonRateThrottle",
        "infra.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_RATE_ANON", "120/min"),
        "user": env_str("API_RATE_USER", "600/min"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "UPDATE_LAST_LOGIN": True,
    # An access token carries a digest of the password it was issued under: a password
    # change ends it at once. Refresh tokens are blacklisted then too (accounts.services).
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Livesite API",
    "DESCRIPTION": "Rooms, chat, gifts and moderation for Livesite.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(api|hls)/.*$"

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
if (BASE_DIR / "node_modules").is_dir():
    # Third-party browser code comes from npm (package.json), never pasted into the repo.
    STATICFILES_DIRS.append(("vendor", BASE_DIR / "node_modules"))
# In development WhiteNoise serves straight from the finders: no collectstatic between edits.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 2_000_000, minimum=10_000)

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the room page's scripts read it for API calls
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is opt-in: once browsers ship the list it takes months to undo.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # Health checks come from load balancers over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Content-Security-Policy (django-csp): scripts only from our own files ----------
# No inline script or style anywhere (data reaches scripts through json_script). hls.js
# plays through MediaSource (blob: media) and may run its demuxer in a blob: worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],  # 'self' covers same-host ws: and wss:
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Trusted proxies: whose X-Forwarded-For to believe (infra/client_address.py) ----
# Loopback by default: the shipped deployment runs nginx on the same host. Empty: believe none.
TRUSTED_PROXIES = env_cidrs("TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128"])

# --- Operator endpoints: /metrics and /readyz (accounts/permissions.py) -----------
METRICS_ALLOWED_NETWORKS = env_cidrs("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- Moderation (read by the app through moderation/conf.py) -------------------------
# How long the cache vouches for a room's restriction list before it is reloaded.
MODERATION_STATE_TTL_SECONDS = env_int("MODERATION_STATE_TTL_SECONDS", 3600, minimum=1)
# A held message nobody approves or removes within this many seconds is dropped (0: never).
MODERATION_HELD_REVIEW_SECONDS = env_int("MODERATION_HELD_REVIEW_SECONDS", 300, minimum=0)
MODERATION_RULES_CACHE_SIZE = env_int("MODERATION_RULES_CACHE_SIZE", 1000, minimum=1)
MODERATION_MODERATORS_BYPASS_FILTER = env_bool("MODERATION_MODERATORS_BYPASS_FILTER", True)
# A room with no rules of its own: its link policy, allowed domains and flood limits.
MODERATION_DEFAULT_LINK_MODE = env_choice(
    "MODERATION_DEFAULT_LINK_MODE", "allow_all", {"allow_all", "block_all", "allow_list"}
)
MODERATION_DEFAULT_ALLOWED_DOMAINS = tuple(env_list("MODERATION_DEFAULT_ALLOWED_DOMAINS"))
# A JSON object of moderation.room_rules.FloodLimits arguments, e.g. {"max_emoji": 10,
# "action": "block"}; unset leaves flooding alone until a room's moderators set limits.
MODERATION_DEFAULT_FLOOD_LIMITS = env_json_object("MODERATION_DEFAULT_FLOOD_LIMITS")
# Scoring by the worker, after the message (moderation/scoring.py).
MODERATION_SCORING_ENABLED = env_bool("MODERATION_SCORING_ENABLED", True)
MODERATION_SCORING_DELAY_SECONDS = env_float("MODERATION_SCORING_DELAY_SECONDS", 2, minimum=0)
MODERATION_SCORING_BATCH_SECONDS = env_float("MODERATION_SCORING_BATCH_SECONDS", 0.5, minimum=0)
MODERATION_SCORING_BATCH_SIZE = env_int("MODERATION_SCORING_BATCH_SIZE", 200, minimum=1)
MODERATION_SCORING_EXPIRES_SECONDS = env_float(
    "MODERATION_SCORING_EXPIRES_SECONDS", 600, minimum=1
)
# The Celery queue of the scoring task; empty: the default queue.
MODERATION_SCORING_QUEUE = env_str("MODERATION_SCORING_QUEUE") or None
MODERATION_CLASSIFIERS = tuple(
    env_list("MODERATION_CLASSIFIERS", ["moderation.scoring.RuleClassifier"])
)
MODERATION_RETRACT_SCORE = env_float("MODERATION_RETRACT_SCORE", 0.8, minimum=0)
MODERATION_REVIEW_SCORE = env_float("MODERATION_REVIEW_SCORE", 0.5, minimum=0)
MODERATION_COPYPASTA_USERS = env_int("MODERATION_COPYPASTA_USERS", 3, minimum=2)
MODERATION_COPYPASTA_WINDOW_SECONDS = env_int(
    "MODERATION_COPYPASTA_WINDOW_SECONDS", 60, minimum=1
)
MODERATION_REPORT_LIMIT = env_int("MODERATION_REPORT_LIMIT", 10, minimum=1)
MODERATION_REPORT_WINDOW_SECONDS = env_int("MODERATION_REPORT_WINDOW_SECONDS", 600, minimum=1)
MODERATION_MAX_TIMEOUT_MINUTES = env_int("MODERATION_MAX_TIMEOUT_MINUTES", 60 * 24 * 14, minimum=1)
MODERATION_CLEAR_EVENTS_MAX = env_int("MODERATION_CLEAR_EVENTS_MAX", 200, minimum=0)
MODERATION_CONTEXT_MESSAGES = env_int("MODERATION_CONTEXT_MESSAGES", 10, minimum=0)

# --- Clips: the last seconds of a live stream (clips/services.py) -------------------
CLIPS_MIN_SECONDS = env_int("CLIPS_MIN_SECONDS", 15, minimum=1)
CLIPS_MAX_SECONDS = env_int("CLIPS_MAX_SECONDS", 60, minimum=CLIPS_MIN_SECONDS)
CLIPS_PER_USER_LIMIT = env_int("CLIPS_PER_USER_LIMIT", 5, minimum=1)
CLIPS_PER_USER_WINDOW = env_int("CLIPS_PER_USER_WINDOW", 600, minimum=1)

# --- Email and go-live notifications ------------------------------------------
# console:// prints mail (development); smtp://user:password@host:587 in production.
_EMAIL = parse_email_url(env_str("EMAIL_URL", "console://"))
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _EMAIL.get("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@localhost>")
# Absolute links in emails (the unsubscribe link, the room): scheme and host, no slash.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# A room that ends and goes live again within this many minutes notifies nobody again.
NOTIFICATIONS_FLAP_MINUTES = env_int("NOTIFICATIONS_FLAP_MINUTES", 10, minimum=0)
# Followers per fan-out task: one multi-row INSERT and one unread-count query each.
NOTIFICATIONS_BATCH_SIZE = env_int("NOTIFICATIONS_BATCH_SIZE", 1000, minimum=1)

# --- Logging: one JSON object a line in production --------------------------
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json (got {LOG_FORMAT!r})")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
    },
}
