"""One supervised transcoder per live room: started, restarted when it dies, its events heard.

A transcoder runs out of process (transcoder_process.py) and is started for every
accepted publish, the one before it finished first: never two writing one folder. One
that dies while live is restarted, and its publisher's set-up replayed, up to
`max_transcoder_restarts` times; then the publisher is dropped. Each death is stored as
a `StreamIncident`. Its events: health reports, kept for the stream manager and
published to the room's managers (`stream.health`), and, with several ingest machines,
each segment recorded in the node registry (streaming/hls_nodes.py). It also pipes back
what real-time (WHEP) viewers get when the publisher's own H.264 will not do
(docs/video.md, "Real-time viewing: WHEP").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine

from realtime.publish import apublish
from rooms import cache as room_cache
from rooms import events as room_events
from rooms.models import StreamIncident
from streaming.hls_nodes import NodeRegistry
from streaming.ingest.database import record_incident
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.settings import IngestSettings
from streaming.ingest.transcoder_process import (
    REALTIME_FD_PLACEHOLDER,
    TranscoderGone,
    TranscoderProcess,
)

logger = logging.getLogger("livesite.ingest")


class TranscoderSupervisor:
    def __init__(
        self,
        settings: IngestSettings,
        nodes: NodeRegistry | None,
        in_background: Callable[[Coroutine], None],
    ) -> None:
        self.settings = settings
        self.nodes = nodes
        self._in_background = in_background

    async def start(self, live: LiveRoom) -> None:
        """Start a transcoder for the room's current publish session."""
        if live.transcoder is not None:
            await live.transcoder.finish()  # never two transcoders writing one folder
        realtime = getattr(live.session, "realtime", None)
        argv = self.settings.transcoder.argv(
            live.output,
            discontinuity=live.continuing,
            input_format=live.session.input_format,
            realtime_fd=REALTIME_FD_PLACEHOLDER if realtime is not None else None,
            continue_after=live.continue_after,
        )
        live.transcoder = TranscoderProcess(
            argv,
            on_event=lambda e: self._on_event(live, e),
            on_realtime=realtime.from_transcoder if realtime is not None else None,
        )
        await live.transcoder.start()
        live.transcoders_started += 1

    async def died(self, live: LiveRoom, session) -> None:
        """The transcoder died while `session` was publishing: restart it, or give up."""
        exit_ = live.transcoder.exit or await live.transcoder.wait()
        live.deaths.append(exit_)
        logger.warning(
            "room %s: transcoder died while live (%s); last stderr: %s",
            live.slug, exit_.describe(), " | ".join(exit_.stderr_tail[-3:]),
        )  # fmt: skip
        gave_up = live.restarts >= self.settings.max_transcoder_restarts
        kind = StreamIncident.Kind
        await record_incident(
            live,
            kind.TRANSCODER_GAVE_UP if gave_up else kind.TRANSCODER_DIED,
            "\n".join([exit_.describe(), *exit_.stderr_tail[-10:]]),
        )
        if gave_up:
            await session.drop("transcoder keeps failing")
            return
        live.restarts += 1
        await self.start(live)
        try:
            await session.restart_input()
        except TranscoderGone:
            await session.drop("transcoder failed to restart")

    async def stop(self, live: LiveRoom) -> None:
        """The publisher left: let the transcoder finish what it was sent."""
        exit_ = await live.transcoder.finish() if live.transcoder else None
        if exit_ is not None and not exit_.clean and exit_ not in live.deaths:
            logger.warning("room %s: transcoder ended badly (%s)", live.slug, exit_.describe())

    def _on_event(self, live: LiveRoom, event: dict) -> None:
        if event.get("event") == "segment" and self.nodes:
            self._in_background(self._record_segment(live, event))
        if event.get("event") != "health":
            return
        health = room_events.stream_health(live.room, event)
        self._in_background(_publish_health(live.room_id, health))

    async def _record_segment(self, live: LiveRoom, event: dict) -> None:
        try:
            await self.nodes.record_segment(
                live.room_id, int(event["sequence"]), bool(event.get("discontinuity"))
            )
        except Exception:  # the next segment records again; never disturb the stream
            logger.warning("room %s: could not record the segment", live.slug, exc_info=True)


async def _publish_health(room_id: int, health: dict) -> None:
    try:
        await room_cache.store_health(room_id, health)
        await apublish(room_id, health)
    except Exception:  # health is advisory: never let it disturb the stream
        logger.warning("could not publish stream health", exc_info=True)
