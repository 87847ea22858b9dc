"""Per-process room hubs: fan-out whose cost per event does not grow with the audience.

The textbook Channels chat puts every socket in the room's group, so one
message crosses the channel layer once per viewer and is JSON-encoded once per
viewer. Here each web process has one `ProcessHub` (one per event loop) with
one Redis pub/sub connection (realtime.feed), subscribed to the channel of every room that has
viewers on this process (realtime.publish). An event therefore crosses Redis once
per process, arrives encoded, and the same text frame is written to every
local socket.

A room has at most one fan-out in flight. Events that arrive while one runs,
or within the batch window (~100 ms) after the last one, wait and go out
together as one `batch` frame, so a viewer's phone gets at most ~10 frames a
second however fast the chat runs, and a big room never queues fan-outs
behind each other. A quiet room sends each event at once. A fan-out yields to
the event loop every FAN_OUT_SLICE sockets so that Redis replies and other
rooms are not held up behind a long one.

Presence: a join or leave changes this process's counters (O(1)); once a
second the hub publishes its snapshot (realtime.presence), reads the room's totals
and sends `presence.count` when it changed. Likes are summed per room and
flushed to the stream's total four times a second.
"""

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings

from chat import events, send_buffer
from chat.protocol import CLOSE_SLOW_CONSUMER
from realtime import presence
from realtime.direct_send import is_open, send_prepared
from realtime.feed import RoomFeed
from realtime.publish import apublish, encode
from realtime.redis_client import data_url

log = logging.getLogger(__name__)

PRESENCE_INTERVAL = 1.0
LIKES_INTERVAL = 0.25
AUDIENCE_INTERVAL = 5.0
PEAK_INTERVAL = 10.0
JOIN_NOTICES_PER_SECOND = 5
FAN_OUT_SLICE = 200  # sockets written between yields to the event loop
CONTROL_DISCONNECT = events.CONTROL_DISCONNECT


def batch_frame(frames: list[str]) -> str:
    """A `batch` of already-encoded events, joined without decoding them again."""
    return '{"type":"batch","events":[' + ",".join(frames) + "]}"


@dataclass(eq=False, slots=True)
class Viewer:
    """One local socket: how to write to it and who is behind it."""

    send: Callable[[dict], Awaitable[None]]  # the socket's ASGI send
    close: Callable[[int], Awaitable[None]]
    user: dict | None = None  # events.user_summary, None when anonymous
    can_manage: bool = False  # gets `stream.health` (the owner and staff)
    counted: bool = True  # False: the stream manager's socket, not in the audience
    # Under daphne, the socket's autobahn protocol: fan-out frames go straight to it
    # (realtime/direct_send.py). None elsewhere.
    protocol: object | None = None
    closing: bool = False  # closed as a slow consumer: write nothing more

    @property
    def user_id(self) -> int | None:
        return self.user["id"] if self.user else None


@dataclass(eq=False)
class RoomHub:
    process: "ProcessHub"
    room_id: int
    slug: str
    stream_id: int | None
    slow_mode_seconds: int = 0
    recent: deque = field(default_factory=deque)  # (message id, encoded chat.message)
    viewers: set = field(default_factory=set)
    user_connections: Counter = field(default_factory=Counter)
    user_summaries: dict = field(default_factory=dict)
    anonymous: int = 0
    pending: list = field(default_factory=list)
    last_send: float = 0.0
    flush_handle: asyncio.TimerHandle | None = None
    sending: bool = False  # a fan-out is in flight
    presence_dirty: bool = True
    last_heartbeat: float = 0.0
    count_frame: str = ""
    audience_frame: str = ""
    last_audience_at: float = 0.0
    viewers_total: int = 0
    recorded_peak: int = 0
    last_peak_at: float = 0.0
    likes_pending: int = 0
    join_notices: int = 0

    # --- joining and leaving -------------------------------------------------
    def add(self, viewer: Viewer) -> None:
        self.viewers.add(viewer)
        if not viewer.counted:
            return
        if viewer.user is None:
            self.anonymous += 1
        else:
            self.user_connections[viewer.user_id] += 1
            self.user_summaries[viewer.user_id] = viewer.user
        self.presence_dirty = True

    def remove(self, viewer: Viewer) -> bool:
        """Forget `viewer`; True when it was the user's last socket on this process."""
        if viewer not in self.viewers:
            return False
        self.viewers.discard(viewer)
        if not viewer.counted:
            return False
        self.presence_dirty = True
        if viewer.user is None:
            self.anonymous -= 1
            return False
        self.user_connections[viewer.user_id] -= 1
        if self.user_connections[viewer.user_id] > 0:
            return False
        del self.user_connections[viewer.user_id]
        self.user_summaries.pop(viewer.user_id, None)
        return True

    def should_announce(self) -> bool:
        """Join/leave notices only in small rooms, and a few a second at most."""
        if self.viewers_total > settings.CHAT_JOIN_NOTICES_UP_TO:
            return False
        if self.join_notices >= JOIN_NOTICES_PER_SECOND:
            return False
        self.join_notices += 1
        return True

    def snapshot(self) -> presence.Snapshot:
        users = list(self.user_summaries.values())[: presence.AUDIENCE_LIST_LIMIT]
        return presence.Snapshot(self.anonymous, len(self.user_connections), users)

    # --- history ---------------------------------------------------------------
    def remember(self, event: dict, frame: str) -> None:
        self.recent.append((int(event["id"]), frame))
        while len(self.recent) > settings.CHAT_HISTORY_ON_JOIN:
            self.recent.popleft()

    def forget(self, message_id: int) -> None:
        self.recent = deque(item for item in self.recent if item[0] != message_id)

    def history_frame(self, after_id: int | None = None) -> str | None:
        """chat.history from memory, or None when `after_id` is older than what is held."""
        items = list(self.recent)
        if after_id is not None:
            if items and after_id < items[0][0] and len(items) >= settings.CHAT_HISTORY_ON_JOIN:
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

    def enqueue(self, frame: str) -> None:
        self.pending.append(frame)
        self._schedule()

    def _schedule(self) -> None:
        """Start a fan-out now, or when the window since the last one has passed."""
        if self.sending or self.flush_handle is not None or not self.pending:
            return
        loop = asyncio.get_running_loop()
        wait = self.last_send + self.batch_window() - loop.time()
        if wait > 0:
            self.flush_handle = loop.call_later(wait, self._flush)
        else:
            self._flush()

    def batch_window(self) -> float:
        """Seconds between fan-outs: `CHAT_BATCH_WINDOW_MS`, twice that in a big room.

        A fan-out's cost is mostly per socket, so in a room of thousands the window
        sets the CPU; nobody reads a chat that fast anyway. bench/chat_load.py, one
        process, 20 messages a second at 100 ms: 2,000 viewers p99 199 ms at 0.53
        core, 3,000 viewers p99 501 ms at 0.79 core. Above `CHAT_BIG_ROOM_VIEWERS`
        (2,500) local viewers the window doubles, to halve the frames written.
        """
        window = settings.CHAT_BATCH_WINDOW_MS / 1000
        return window * 2 if len(self.viewers) > settings.CHAT_BIG_ROOM_VIEWERS else window

    def _flush(self) -> None:
        self.flush_handle = None
        frames, self.pending = self.pending, []
        if not frames:
            return
        self.sending = True
        self.last_send = asyncio.get_running_loop().time()
        frame = frames[0] if len(frames) == 1 else batch_frame(frames)
        self.process.spawn(self.fan_out(frame))

    async def fan_out(self, frame: str) -> None:
        message = {"type": "websocket.send", "text": frame}
        prepared = None  # the frame, framed once for every daphne socket
        try:
            for index, viewer in enumerate(list(self.viewers), start=1):
                try:
                    protocol = viewer.protocol
                    if viewer.closing:
                        pass
                    elif protocol is None:
                        await viewer.send(message)
                    elif send_buffer.over_cap(protocol):
                        self.close_slow_consumer(viewer)
                    elif is_open(protocol):
                        if prepared is None:
                            prepared = protocol.factory.prepareMessage(frame.encode())
                        send_prepared(protocol, prepared)
                except Exception:  # one broken socket must not stop the room
                    log.debug("dropping a viewer whose socket failed", exc_info=True)
                    self.viewers.discard(viewer)
                if index % FAN_OUT_SLICE == 0:
                    await asyncio.sleep(0)
        finally:
            self.sending = False
            self._schedule()

    def close_slow_consumer(self, viewer: Viewer) -> None:
        """Close a socket whose client left too much unread; it leaves the room through
        the consumer's disconnect, like any other closed socket."""
        if viewer.closing:
            return
        viewer.closing = True
        send_buffer.SLOW_CONSUMERS_CLOSED.inc()
        log.info("closing a slow consumer in room %s", self.slug)
        self.process.spawn(_close_quietly(viewer, CLOSE_SLOW_CONSUMER))

    async def disconnect_user(self, user_id: int, code: int) -> None:
        for viewer in [v for v in self.viewers if v.user_id == user_id]:
            with contextlib.suppress(Exception):
                await viewer.close(code)

    # --- periodic work ---------------------------------------------------------
    async def refresh_presence(self, now: float) -> None:
        heartbeat_interval = presence.snapshot_ttl() / 3
        heartbeat = self.presence_dirty or now - self.last_heartbeat >= heartbeat_interval
        if heartbeat:
            self.presence_dirty = False
            self.last_heartbeat = now
            if self.viewers:
                await presence.write_snapshot(
                    self.room_id, self.process.process_id, self.snapshot()
                )
        audience = await presence.read_audience(self.room_id)
        if heartbeat or audience.viewers != self.viewers_total:
            # the total the directory's cards show (presence.viewer_counts)
            await presence.write_viewer_count(self.room_id, audience.viewers)
        self.viewers_total = audience.viewers
        count = encode(events.presence_count(audience.viewers, audience.logged_in))
        if count != self.count_frame:
            self.count_frame = count
            self.enqueue(count)
        if now - self.last_audience_at >= AUDIENCE_INTERVAL:
            self.last_audience_at = now
            frame = encode(events.presence_audience(audience.users, audience.anonymous))
            if frame != self.audience_frame:
                self.audience_frame = frame
                self.enqueue(frame)
        if (
            self.stream_id
            and audience.viewers > self.recorded_peak
            and (now - self.last_peak_at >= PEAK_INTERVAL)
        ):
            from rooms.services import record_viewers

            self.last_peak_at = now
            self.recorded_peak = audience.viewers
            await database_sync_to_async(record_viewers)(self.stream_id, audience.viewers)

    async def flush_likes(self) -> None:
        if not self.likes_pending or not self.stream_id:
            self.likes_pending = 0
            return
        from rooms.services import add_likes

        delta, self.likes_pending = self.likes_pending, 0
        total = await database_sync_to_async(add_likes)(self.stream_id, delta)
        await apublish(self.room_id, events.likes(total, delta))


async def _close_quietly(viewer: Viewer, code: int) -> None:
    with contextlib.suppress(Exception):
        await viewer.close(code)


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
                    hub.room_id, after, settings.CHAT_RESUME_LIMIT
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
                room_id, settings.CHAT_HISTORY_ON_JOIN
            )
            hub = RoomHub(self, room_id, slug, stream_id, slow_mode)
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
        if hub.likes_pending:
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
            hub.join_notices = 0
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
