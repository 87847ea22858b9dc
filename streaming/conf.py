"""The streaming app's settings, read in one place.

`livesite/settings.py` reads each of these from the environment and holds its default
(README, settings table); the rest of the app reads them through these functions, not
at import time, so tests can override them. The RTMP server, the transcoder and the
WebRTC peers know nothing of Django: whoever starts them passes these values in.
"""

from pathlib import Path

from django.conf import settings

# --- The HLS origin (streaming/origin.py) --------------------------------------------


def hls_root() -> Path:
    """Where the transcoders write each room's HLS, one folder per room slug."""
    return Path(settings.HLS_ROOT)


def hls_node_routing() -> bool:
    """Whether the origin sends `/hls/` on to the ingest node holding the room
    (X-Accel-Redirect) instead of reading `hls_root()`."""
    return settings.HLS_NODE_ROUTING


def hls_playlist_max_age() -> int:
    """Seconds a shared cache may keep a live playlist (blocking reloads say their own)."""
    return settings.HLS_PLAYLIST_MAX_AGE


def hls_segment_max_age() -> int:
    """Seconds a shared cache may keep a segment or part (they never change)."""
    return settings.HLS_SEGMENT_MAX_AGE


def origin_read_threads() -> int:
    """Threads per web process reading HLS files for the origin (infra/thread_pools.py)."""
    return settings.ORIGIN_READ_THREADS


def cors_allowed_origins() -> list[str]:
    """Origins whose pages may fetch `/hls/` (the same list `/api/` allows)."""
    return settings.CORS_ALLOWED_ORIGINS


# --- WHIP and WHEP (streaming/whip_views.py, streaming/webrtc/) -----------------------


def whip_offers_per_minute() -> int:
    """WHIP and WHEP offers one client address may send a minute."""
    return settings.WHIP_OFFERS_PER_MINUTE


def webrtc_ice_servers() -> tuple[str, ...]:
    """STUN/TURN URLs for the ingest's own candidates, offered to clients in Link headers."""
    return tuple(settings.WEBRTC_ICE_SERVERS)


def webrtc_turn_username() -> str:
    return settings.WEBRTC_TURN_USERNAME


def webrtc_turn_credential() -> str:
    return settings.WEBRTC_TURN_CREDENTIAL


def webrtc_public_address() -> str:
    """The public IP announced beside each host candidate behind a 1:1 NAT; empty: none."""
    return settings.WEBRTC_PUBLIC_ADDRESS


def webrtc_connect_timeout() -> float:
    """Seconds a WHIP session may take to connect before its room is freed."""
    return settings.WEBRTC_CONNECT_TIMEOUT


def webrtc_udp_ports() -> tuple[int, int] | None:
    """The UDP port range host candidates bind, for a firewall to open; None: any port."""
    return settings.WEBRTC_UDP_PORTS


def whep_max_viewers_per_ingest() -> int:
    """Real-time viewers one ingest process takes, joining or watching (0: none)."""
    return settings.WHEP_MAX_VIEWERS_PER_INGEST


def whep_joins_per_second() -> float:
    """Real-time viewers that may join one ingest a second (a burst of one second's worth)."""
    return settings.WHEP_JOINS_PER_SECOND


# --- The ingest process (python manage.py ingest, streaming/ingest/) ------------------


def ingest_host() -> str:
    """The address the RTMP ingest listens on (loopback unless set)."""
    return settings.INGEST_HOST


def ingest_port() -> int:
    return settings.INGEST_PORT


def ingest_app() -> str:
    """The RTMP application name publishers must use (`rtmp://host:port/<app>`)."""
    return settings.INGEST_APP


def ingest_reconnect_grace() -> float:
    """Seconds a dropped broadcaster may reconnect and continue the same stream."""
    return settings.INGEST_RECONNECT_GRACE


def ingest_lock_ttl() -> float:
    """Seconds a room's live lock lives unless the ingest holding it renews it."""
    return settings.INGEST_LOCK_TTL


def ingest_key_check_seconds() -> float:
    """How often the ingest looks for rotated keys, stopped rooms and sanctioned owners."""
    return settings.INGEST_KEY_CHECK_MS / 1000


def ingest_max_transcoder_restarts() -> int:
    """Transcoder restarts per connection before the publisher is dropped."""
    return settings.INGEST_MAX_TRANSCODER_RESTARTS


def ingest_max_connections() -> int:
    return settings.INGEST_MAX_CONNECTIONS


def ingest_max_connections_per_address() -> int:
    return settings.INGEST_MAX_CONNECTIONS_PER_ADDRESS


def ingest_bytes_before_publish() -> int:
    """The most bytes an RTMP peer may make the ingest hold before its key is accepted."""
    return settings.INGEST_BYTES_BEFORE_PUBLISH


def ingest_handshake_timeout() -> float:
    return settings.INGEST_HANDSHAKE_TIMEOUT


def ingest_idle_timeout() -> float:
    return settings.INGEST_IDLE_TIMEOUT


def ingest_node_id() -> str:
    """This ingest's name among several ingest machines; empty on a one-machine install."""
    return settings.INGEST_NODE_ID


def ingest_node_hls_address() -> str:
    """The internal host:port where the edge reaches this ingest's HLS folder."""
    return settings.INGEST_NODE_HLS_ADDRESS


def transcoder_segment_seconds() -> int:
    return settings.TRANSCODER_SEGMENT_SECONDS


def transcoder_part_seconds() -> float:
    """Low-Latency HLS part length."""
    return settings.TRANSCODER_PART_SECONDS


def transcoder_ladder() -> str:
    """The ABR ladder as set, e.g. "720,480,360" ("none": the source only)."""
    return settings.TRANSCODER_LADDER


def transcoder_preset() -> str:
    """The x264 preset."""
    return settings.TRANSCODER_PRESET


def replay_retention_hours() -> int:
    """How long an ended stream's replay is kept (0: no replays are recorded)."""
    return settings.REPLAY_RETENTION_HOURS


def replay_max_hours() -> int:
    """A replay keeps about the last this many hours of its stream (0: all of it)."""
    return settings.REPLAY_MAX_HOURS


# --- Redis, where live locks and the node registry live --------------------------------


def redis_url() -> str:
    return settings.REDIS_URL


def redis_key_prefix() -> str:
    """Prefix of every Redis key the site writes itself."""
    return settings.REDIS_KEY_PREFIX


def redis_sentinels() -> list[tuple[str, int]]:
    """The sentinels, when Redis is reached through them (a lock then waits for a replica)."""
    return settings.REDIS_SENTINELS
