"""The ingest's settings: one frozen `IngestSettings`, read once (streaming/conf.py).

Every part of the ingest takes what it needs from it, so a test builds an ingest from
plain values (`IngestSettings(hls_root=tmp_path, lock_ttl=0.6)`) without Django's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streaming import conf
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
        keep_replays = conf.replay_retention_hours() > 0
        return cls(
            hls_root=conf.hls_root(),
            app=conf.ingest_app(),
            reconnect_grace=conf.ingest_reconnect_grace(),
            lock_ttl=conf.ingest_lock_ttl(),
            key_check_interval=conf.ingest_key_check_seconds(),
            max_transcoder_restarts=conf.ingest_max_transcoder_restarts(),
            keep_replays=keep_replays,
            transcoder=TranscoderSettings(
                segment_seconds=conf.transcoder_segment_seconds(),
                part_seconds=conf.transcoder_part_seconds(),
                ladder=conf.transcoder_ladder(),
                preset=conf.transcoder_preset(),
                keep_recording=keep_replays,
                max_recording_seconds=conf.replay_max_hours() * 3600,
            ),
            limits=ServerLimits(
                max_connections=conf.ingest_max_connections(),
                max_connections_per_address=conf.ingest_max_connections_per_address(),
                max_bytes_before_publish=conf.ingest_bytes_before_publish(),
                handshake_timeout=conf.ingest_handshake_timeout(),
                idle_timeout=conf.ingest_idle_timeout(),
            ),
            ice=IceSettings.from_django(),
            whep=WhepLimits.from_django(),
        )
