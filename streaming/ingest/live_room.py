"""A room's live stream as the ingest sees it: across reconnects and transcoder restarts.

One `LiveRoom` exists per room from the first accepted publish until the reconnect
grace period after the last one runs out. It owns the room's live lock token, the
room's HLS folder and the transcoder currently writing there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from streaming.hls_nodes import Handoff
from streaming.ingest.flv_resume import FlvResume
from streaming.ingest.transcoder_process import TranscoderExit, TranscoderProcess


@dataclass(eq=False)
class LiveRoom:
    room: object  # rooms.models.Room, kept for rooms.services.end_stream
    output: Path
    lock_token: str
    key_hash: str
    lock_fence: int = 0  # the live lock's fencing token (streaming.ingest.live_lock)
    stream_id: int | None = None
    session: object | None = None
    transcoder: TranscoderProcess | None = None
    transcoders_started: int = 0
    restarts: int = 0
    publishes: int = 0  # accepted publishes (first one and reconnects)
    deaths: list[TranscoderExit] = field(default_factory=list)
    grace: asyncio.Task | None = None
    lock_lost: bool = False
    stopped: bool = False  # the owner pressed Stop: end at once, no reconnect grace
    resume: FlvResume = field(default_factory=FlvResume)
    # The stream continued from another ingest node that died (streaming/hls_nodes.py).
    handoff: Handoff | None = None

    @property
    def room_id(self) -> int:
        return self.room.pk

    @property
    def slug(self) -> str:
        return self.room.slug

    @property
    def continuing(self) -> bool:
        """Whether a transcoder already wrote here: the next one continues its playlists."""
        return self.transcoders_started > 0

    @property
    def continue_after(self) -> tuple[int, int] | None:
        """(last segment, discontinuities) of another node's run for this node's first
        transcoder to number its segments after; None when there is none to follow."""
        if self.handoff is None or self.continuing or self.handoff.last_sequence < 0:
            return None
        return self.handoff.last_sequence, self.handoff.discontinuity_sequence

    def cancel_grace(self) -> None:
        if self.grace is not None:
            self.grace.cancel()
            self.grace = None

    def new_publish(self) -> None:
        """A (re)connected publisher starts a new FLV stream: forget the old set-up tags."""
        self.resume = FlvResume()
        self.restarts = 0
        self.publishes += 1
