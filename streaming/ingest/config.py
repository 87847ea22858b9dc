"""The ingest's settings: one frozen `IngestSettings`, read once from Django's settings.

Every part of the ingest takes what it needs from it, so a test builds an ingest from
plain values (`IngestSettings(hls_root=tmp_path, lock_ttl=0.6)`) without Django's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streaming.ingest.transcoder_process import TranscoderSettings
from streaming.ingest.whep_admission import WhepLimits
from streaming.rtmp.server import ServerLimits
from streaming.webrtc.network import IceSettings


@dataclass(frozen=True)
class IngestSettings:
    hls_root: Path
    app: str = "live"
    reconnect_grace: float = 30.0
    lock_ttl: float = 15.0
    key_check_interval: float = 1.0
    max_transcoder_restarts: int = 3
    keep_replays: bool = True
    transcoder: TranscoderSettings = field(default_factory=TranscoderSettings)
    limits: ServerLimits = field(default_factory=ServerLimits)
    ice: IceSettings = field(default_factory=IceSettings)
    whep: WhepLimits = field(default_factory=WhepLimits)

    @classmethod
    def from_django(cls) -> IngestSettings:
        from django.conf import settings

        return cls(
            hls_root=Path(settings.HLS_ROOT),
            app=settings.INGEST_APP,
            reconnect_grace=settings.INGEST_RECONNECT_GRACE,
            lock_ttl=settings.INGEST_LOCK_TTL,
            key_check_interval=settings.INGEST_KEY_CHECK_MS / 1000,
            max_transcoder_restarts=settings.INGEST_MAX_TRANSCODER_RESTARTS,
            keep_replays=settings.REPLAY_RETENTION_HOURS > 0,
            transcoder=TranscoderSettings(
                segment_seconds=settings.TRANSCODER_SEGMENT_SECONDS,
                part_seconds=settings.TRANSCODER_PART_SECONDS,
                ladder=settings.TRANSCODER_LADDER,
                preset=settings.TRANSCODER_PRESET,
                keep_recording=settings.REPLAY_RETENTION_HOURS > 0,
                max_recording_seconds=settings.REPLAY_MAX_HOURS * 3600,
            ),
            limits=ServerLimits(
                max_connections=settings.INGEST_MAX_CONNECTIONS,
                max_connections_per_address=settings.INGEST_MAX_CONNECTIONS_PER_ADDRESS,
                max_bytes_before_publish=settings.INGEST_BYTES_BEFORE_PUBLISH,
                handshake_timeout=settings.INGEST_HANDSHAKE_TIMEOUT,
                idle_timeout=settings.INGEST_IDLE_TIMEOUT,
            ),
            ice=IceSettings.from_django(),
            whep=WhepLimits.from_django(),
        )
