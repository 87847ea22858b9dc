"""One supervised transcoder per live room: started, restarted when it dies, its health
published to the room's managers.

The transcoder also pipes back what the room's real-time (WHEP) viewers get when the
publisher's own H.264 will not do (docs/video.md, "Real-time viewing").
A transcoder that dies while live is restarted (and its publisher's FLV set-up replayed)
up to `max_transcoder_restarts` times, then the publisher is dropped; each death is
stored as a `StreamIncident`. The transcoder's health events are kept for the stream
manager and published to the room (`stream.health`, for its managers only).
"""

from __future__ import annotations

import asyncio
import logging

from realtime.publish import apublish
from rooms import cache as room_cache
from rooms import events as room_events
from rooms import services as rooms
from rooms.models import StreamIncident
from streaming.ingest import database
from streaming.ingest.live_room import LiveRoom
from streaming.ingest.transcoder_process import (
    REALTIME_FD_PLACEHOLDER,
    TranscoderGone,
    TranscoderProcess,
)

logger = logging.getLogger("livesite.ingest")


class TranscoderSupervision:
    """Uses the `Ingest`'s settings, its node registry (each segment recorded there when
    there are several ingest machines) and its background tasks (`_drops`)."""

    async def _start_transcoder(self, live: LiveRoom) -> None:
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

    async def transcoder_died(self, live: LiveRoom, session) -> None:
        exit_ = live.transcoder.exit or await live.transcoder.wait()
        live.deaths.append(exit_)
        logger.warning(
            "room %s: transcoder died while live (%s); last stderr: %s",
            live.slug, exit_.describe(), " | ".join(exit_.stderr_tail[-3:]),
        )  # fmt: skip
        gave_up = live.restarts >= self.settings.max_transcoder_restarts
        kind = StreamIncident.Kind
        await self._record_incident(
            live,
            kind.TRANSCODER_GAVE_UP if gave_up else kind.TRANSCODER_DIED,
            "\n".join([exit_.describe(), *exit_.stderr_tail[-10:]]),
        )
        if gave_up:
            await session.drop("transcoder keeps failing")
            return
        live.restarts += 1
        await self._start_transcoder(live)
        try:
            await session.restart_input()
        except TranscoderGone:
            await session.drop("transcoder failed to restart")

    def _on_event(self, live: LiveRoom, event: dict) -> None:
        if event.get("event") == "segment" and self.nodes:
            self._in_background(self._record_segment(live, event))
        if event.get("event") != "health":
            return
        health = room_events.stream_health(live.room, event)
        task = asyncio.create_task(self._publish_health(live.room_id, health))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    def _in_background(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def _record_segment(self, live: LiveRoom, event: dict) -> None:
        try:
            await self.nodes.record_segment(
                live.room_id, int(event["sequence"]), bool(event.get("discontinuity"))
            )
        except Exception:  # the next segment records again; never disturb the stream
            logger.warning("room %s: could not record the segment", live.slug, exc_info=True)

    async def _publish_health(self, room_id: int, health: dict) -> None:
        try:
            await room_cache.store_health(room_id, health)
            await apublish(room_id, health)
        except Exception:  # health is advisory: never let it disturb the stream
            logger.warning("could not publish stream health", exc_info=True)

    async def _record_incident(self, live: LiveRoom, kind: str, detail: str) -> None:
        if live.stream_id is None:
            return
        try:
            await database.call(rooms.record_incident, live.stream_id, kind, detail)
        except Exception:
            logger.exception("room %s: could not record an incident", live.slug)
