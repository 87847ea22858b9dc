"""The real-time base's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its default
(README, settings table); the rest of the package reads them through these functions,
not at import time, so tests can override them.
"""

from django.conf import settings

# --- Redis ---------------------------------------------------------------------------


def redis_url() -> str:
    """The one Redis (or its sentinels' redis+sentinel:// address) of the channel layer."""
    return settings.REDIS_URL


def redis_cluster_url() -> str:
    """The redis+cluster:// address settings.py builds from REDIS_CLUSTER_NODES; empty
    without a cluster."""
    return settings.REDIS_CLUSTER_URL


def redis_password() -> str | None:
    """The password of the Redis master (and replicas), or of the cluster's nodes."""
    return settings.REDIS_PASSWORD or None


def redis_sentinel_password() -> str | None:
    """The password of the sentinels themselves."""
    return settings.REDIS_SENTINEL_PASSWORD or None


def redis_client_options() -> dict:
    """Timeouts and health checks every Redis client gets, which settings.py builds from
    REDIS_SOCKET_TIMEOUT, REDIS_CONNECT_TIMEOUT and REDIS_HEALTH_CHECK_INTERVAL."""
    return settings.REDIS_CLIENT_OPTIONS


def redis_key_prefix() -> str:
    """Prefix of every Redis key the site writes itself."""
    return settings.REDIS_KEY_PREFIX


# --- Room sockets ----------------------------------------------------------------------


def presence_ttl() -> int:
    """Seconds a process's presence snapshot lives without a heartbeat."""
    return settings.CHAT_PRESENCE_TTL


def send_buffer_bytes() -> int:
    """Unread bytes a room socket may have queued before it is closed as a slow consumer."""
    return settings.WEBSOCKET_SEND_BUFFER_BYTES


def batch_window_seconds() -> float:
    """Events closer than this are sent to a room's sockets together, as one frame."""
    return settings.CHAT_BATCH_WINDOW_MS / 1000


def big_room_viewers() -> int:
    """Above this many local viewers in a room, its batch window doubles."""
    return settings.CHAT_BIG_ROOM_VIEWERS
