"""This process's room hubs: what the room socket's events mean to the sockets open here.

Each web process has one `ProcessHub` (one per event loop) holding a `RoomHub` for
every room with viewers on it, and one feed (realtime/feed.py) subscribed to those
rooms' channels. A room hub is the room's fan-out (realtime/fan_out.py) plus what the
chat's events mean to it: the last messages kept for joining viewers, deletions, the
stream and slow mode it runs under, control events, `stream.health` for the room's
managers only. Each hub also keeps the room's audience on this process
(chat/audience.py) and the stream's likes and peak viewers (chat/stream_totals.py),
refreshed by the process hub's ticks.
"""

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from collections import deque
from dataclasses import dataclass, field

from channels.db import database_sync_to_async

from chat import conf, events
from chat.audience import RoomAudience
from chat.stream_totals import StreamTotals
from realtime import presence
from realtime.control import CONTROL_DISCONNECT
from realtime.fan_out import RoomFanOut, Viewer
from realtime.feed import RoomFeed
from realtime.publish import encode
from realtime.redis_client import data_url

log = logging.getLogger(__name__)

PRESENCE_INTERVAL = 1.0
LIKES_INTERVAL = 0.25


@dataclass(eq=False, kw_only=True)
class RoomHub(RoomFanOut):
    process: "ProcessHub"
    room_id: int
    stream_id: int | None
    slow_mode_seconds: int = 0
    recent: deque = field(default_factory=deque)  # (message id, encoded chat.message)
    audience: RoomAudience = field(init=False)
    stream_totals: StreamTotals = field(default_factory=StreamTotals)

    def __post_init__(self) -> None:
        self.audience = RoomAudience(self.room_id)

    def spawn(self, coroutine) -> None:
        self.process.spawn(coroutine)

    # --- joining and leaving -------------------------------------------------
    def add(self, viewer: Viewer) -> None:
        self.viewers.add(viewer)
        self.audience.add(viewer)

    def remove(self, viewer: Viewer) -> bool:
        """Forget `viewer`; True when it was the user's last socket on this process."""
        if viewer not in self.viewers:
            return False
        self.viewers.discard(viewer)
        return self.audience.remove(viewer)

    # --- history ---------------------------------------------------------------
    def remember(self, event: dict, frame: str) -> None:
        self.recent.append((int(event["id"]), frame))
        while len(self.recent) > conf.history_on_join():
            self.recent.popleft()

    def forget(self, message_id: int) -> None:
        self.recent = deque(item for item in self.recent if item[0] != message_id)

    def history_frame(self, after_id: int | None = None) -> str | None:
        """chat.history from memory, or None when `after_id` is older than what is held."""
        items = list(self.recent)
        if after_id is not None:
            if items and after_id < items[0][0] and len(items) >= conf.history_on_join():
                return None
            items = [item for item in items if item[0] > after_id]
        messages = ",".join(frame for _, frame in items)
        return f'{{"type":"chat.history","messages":[{messages}],"complete":true}}'

    def catch_up(self, found: list[dict], complete: bool) -> None:
        """Messages the feed missed while Redis was away, as one `chat.history` for every
        viewer (clients skip ids they have, as after a `resume`)."""
        known = {message_id for message_id, _ in self.recent}
        missed = [event for event in found if int(event["id"]) not in known]
        if not missed:
            return
        for event in missed:
            self.remember(event, encode(event))
        self.enqueue(encode(events.chat_history(missed, complete)))

    # --- delivery --------------------------------------------------------------
    async def deliver(self, frame: str) -> None:
        """An encoded event published to the room, for every local viewer."""
        event = json.loads(frame)
        kind = event.get("type")
        if kind == CONTROL_DISCONNECT:
            await self.disconnect_user(event["user_id"], event.get("code", 4403))
            return
        if kind == "stream.health":  # for the room's managers only, never batched
            message = {"type": "websocket.send", "text": frame}
            for viewer in [v for v in self.viewers if v.can_manage]:
                with contextlib.suppress(Exception):
                    await viewer.send(message)
            return
        if kind == "chat.message":
            self.remember(event, frame)
        elif kind == "chat.delete":
            self.forget(int(event["id"]))
        elif kind == "room.status":
            self.stream_id = event.get("stream")
        elif kind == "chat.slow_mode":
            self.slow_mode_seconds = event["seconds"]
        self.enqueue(frame)

    # --- periodic work ---------------------------------------------------------
    async def refresh_presence(self, now: float) -> None:
        for frame in await self.audience.refresh(
            now, self.process.process_id, bool(self.viewers)
        ):
            self.enqueue(frame)
        await self.stream_totals.record_peak(self.stream_id, self.audience.viewers_total, now)

    async def flush_likes(self) -> None:
        await self.stream_totals.flush_likes(self.room_id, self.stream_id)


class ProcessHub:
    """Every room with viewers on this process, and the one feed they share."""

    def __init__(self):
        self.process_id = uuid.uuid4().hex[:12]
        self.rooms: dict[int, RoomHub] = {}
        self.feed: RoomFeed | None = None
        self._started = False
        self._opening: dict[int, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []
        self._fan_outs: set[asyncio.Task] = set()
        self._start_lock = asyncio.Lock()

    def spawn(self, coroutine) -> None:
        """Run a fan-out in the background, holding a reference until it finishes."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._fan_outs.add(task)
        task.add_done_callback(self._fan_outs.discard)

    async def start(self) -> None:
        async with self._start_lock:
            if self._started:
                return
            self._started = True
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._every(PRESENCE_INTERVAL, self._presence_tick)),
                loop.create_task(self._every(LIKES_INTERVAL, self._likes_tick)),
            ]
            if data_url():
                self.feed = RoomFeed(self.deliver, self.catch_up, self.deliver_to_users)
                await self.feed.subscribe_users()
                self._tasks.append(loop.create_task(self.feed.run(), name="hub-feed"))

    async def stop(self) -> None:
        """Stop the background tasks and leave every room (tests; a process exit needs none)."""
        for task in [*self._tasks, *self._fan_outs]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._fan_outs, return_exceptions=True)
        for hub in list(self.rooms.values()):
            hub.viewers.clear()
            await self.release(hub)
        if self.feed is not None:
            await self.feed.close()
        self._tasks = []
        self._started = False

    async def deliver(self, room_id: int, frame: str) -> None:
        hub = self.rooms.get(room_id)
        if hub is None:
            return
        try:
            await hub.deliver(frame)
        except Exception:
            log.exception("could not deliver an event to room %s", room_id)

    async def deliver_to_users(self, frame: str) -> None:
        """A control event about one user: close their sockets in every local room."""
        event = json.loads(frame)
        if event.get("type") != CONTROL_DISCONNECT:
            return
        for hub in list(self.rooms.values()):
            await hub.disconnect_user(event["user_id"], event.get("code", 4403))

    async def catch_up(self) -> None:
        """After the feed lost Redis: each room's messages sent meanwhile, from the database."""
        from chat.services import message_events_after

        for hub in list(self.rooms.values()):
            after = hub.recent[-1][0] if hub.recent else 0
            try:
                found, complete = await database_sync_to_async(message_events_after)(
                    hub.room_id, after, conf.resume_limit()
                )
            except Exception:
                log.exception("could not catch up room %s", hub.room_id)
                continue
            hub.catch_up(found, complete)

    async def room(self, room_id: int, slug: str, stream_id: int | None) -> RoomHub:
        """The hub of a room, opened (history loaded, feed subscribed) on first use."""
        await self.start()
        hub = self.rooms.get(room_id)
        if hub is not None:
            return hub
        opening = self._opening.get(room_id)
        if opening is not None:
            return await asyncio.shield(opening)
        opening = self._opening[room_id] = asyncio.get_running_loop().create_future()
        try:
            from chat.services import room_state

            recent, slow_mode = await database_sync_to_async(room_state)(
                room_id, conf.history_on_join()
            )
            hub = RoomHub(
                slug,
                process=self,
                room_id=room_id,
                stream_id=stream_id,
                slow_mode_seconds=slow_mode,
            )
            for event in recent:
                hub.remember(event, encode(event))
            if self.feed is not None:
                await self.feed.subscribe(room_id)
            self.rooms[room_id] = hub
            opening.set_result(hub)
            return hub
        except BaseException as error:
            opening.set_exception(error)
            opening.exception()  # mark it retrieved: no "never retrieved" warning
            raise
        finally:
            del self._opening[room_id]

    async def release(self, hub: RoomHub) -> None:
        """Close a room hub once its last local viewer has gone."""
        if hub.viewers or self.rooms.get(hub.room_id) is not hub:
            return
        del self.rooms[hub.room_id]
        if hub.flush_handle:
            hub.flush_handle.cancel()
        if self.feed is not None:
            await self.feed.unsubscribe(hub.room_id)
        await presence.remove_snapshot(hub.room_id, self.process_id)
        if hub.stream_totals.likes_pending:
            await hub.flush_likes()

    async def _every(self, seconds: float, tick) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                if asyncio.current_task().cancelling():
                    raise asyncio.CancelledError from None
                log.exception("hub tick %s failed", tick.__name__)

    async def _presence_tick(self) -> None:
        now = asyncio.get_running_loop().time()
        for hub in list(self.rooms.values()):
            hub.audience.join_notices = 0
            await hub.refresh_presence(now)

    async def _likes_tick(self) -> None:
        for hub in list(self.rooms.values()):
            await hub.flush_likes()


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ProcessHub]" = (
    weakref.WeakKeyDictionary()
)


async def stop_process_hub() -> None:
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.stop()


async def deliver_to_users_in_process(frame: str) -> None:
    await get_process_hub().deliver_to_users(frame)


async def deliver_in_process(room_id: int, frame: str) -> None:
    """Embedded defaults (no Redis): events go straight to this process's hub."""
    await get_process_hub().deliver(room_id, frame)


def get_process_hub() -> ProcessHub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = ProcessHub()
    return hub
