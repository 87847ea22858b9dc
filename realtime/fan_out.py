"""A room's fan-out on one web process: the same encoded frame to every local socket.

The textbook Channels chat puts every socket in the room's group, so one message
crosses the channel layer once per viewer and is JSON-encoded once per viewer. Here
an event arrives once per process (realtime/feed.py), already encoded, and the same
text frame is written to every local socket.

A room has at most one fan-out in flight. Events that arrive while one runs, or
within the batch window (~100 ms) after the last one, wait and go out together as one
`batch` frame, so a viewer's phone gets at most ~10 frames a second however fast the
room runs, and a big room never queues fan-outs behind each other. A quiet room sends
each event at once. A fan-out yields to the event loop every FAN_OUT_SLICE sockets so
that Redis replies and other rooms are not held up behind a long one.

`RoomFanOut` knows no event type: the room socket's app subclasses it with what its
events mean (history, presence, likes) and says how a fan-out runs in the background
(`spawn`).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from realtime import conf, send_buffer
from realtime.control import CLOSE_SLOW_CONSUMER
from realtime.direct_send import is_open, send_prepared

log = logging.getLogger(__name__)

FAN_OUT_SLICE = 200  # sockets written between yields to the event loop


def batch_frame(frames: list[str]) -> str:
    """A `batch` of already-encoded events, joined without decoding them again."""
    return '{"type":"batch","events":[' + ",".join(frames) + "]}"


@dataclass(eq=False, slots=True)
class Viewer:
    """One local socket: how to write to it and who is behind it."""

    send: Callable[[dict], Awaitable[None]]  # the socket's ASGI send
    close: Callable[[int], Awaitable[None]]
    user: dict | None = None  # the user's summary (with an "id"), None when anonymous
    can_manage: bool = False  # gets the room's management events (the owner and staff)
    counted: bool = True  # False: the stream manager's socket, not in the audience
    # Under daphne, the socket's autobahn protocol: fan-out frames go straight to it
    # (realtime/direct_send.py). None elsewhere.
    protocol: object | None = None
    closing: bool = False  # closed as a slow consumer: write nothing more

    @property
    def user_id(self) -> int | None:
        return self.user["id"] if self.user else None


@dataclass(eq=False)
class RoomFanOut:
    slug: str  # the room's, for the logs
    viewers: set = field(default_factory=set)
    pending: list = field(default_factory=list)
    last_send: float = 0.0
    flush_handle: asyncio.TimerHandle | None = None
    sending: bool = False  # a fan-out is in flight

    def spawn(self, coroutine) -> None:
        """Run `coroutine` in the background, holding a reference until it finishes.

        Abstract: the owner of the fan-out's tasks decides where they live (chat.hub.RoomHub
        hands them to its process hub, which cancels them all at shutdown)."""
        raise NotImplementedError(f"{type(self).__name__} must say where its fan-outs run")

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
        window = conf.batch_window_seconds()
        return window * 2 if len(self.viewers) > conf.big_room_viewers() else window

    def _flush(self) -> None:
        self.flush_handle = None
        frames, self.pending = self.pending, []
        if not frames:
            return
        self.sending = True
        self.last_send = asyncio.get_running_loop().time()
        frame = frames[0] if len(frames) == 1 else batch_frame(frames)
        self.spawn(self.fan_out(frame))

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
        self.spawn(_close_quietly(viewer, CLOSE_SLOW_CONSUMER))

    async def disconnect_user(self, user_id: int, code: int) -> None:
        """A control event (realtime/control.py): close the user's local sockets."""
        for viewer in [v for v in self.viewers if v.user_id == user_id]:
            with contextlib.suppress(Exception):
                await viewer.close(code)


async def _close_quietly(viewer: Viewer, code: int) -> None:
    with contextlib.suppress(Exception):
        await viewer.close(code)
