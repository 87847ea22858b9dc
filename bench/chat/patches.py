"""Proposed changes to the chat, as patches a variant applies in its own daphne process.

Each function changes one thing (the room hub's fan-out, chat.writer's batching,
the channel layer, the socket's middleware) for the process that serves the
variant; bench/chat/variants.py says what each variant tests.
"""

import asyncio
import functools
import json
import logging
import struct
from importlib import import_module

from channels.auth import get_user
from django.conf import settings
from django.http.cookie import parse_cookie

from chat.hub import RoomHub
from chat.writer import BATCH_SIZE, MessageWriter
from realtime.fan_out import batch_frame

log = logging.getLogger(__name__)


# --- coalescing: one fan-out in flight per room, the rest wait and batch ------------
def _enqueue_coalescing(self: RoomHub, frame: str) -> None:
    self.pending.append(frame)
    if getattr(self, "fanning_out", False) or self.flush_handle is not None:
        return  # the running fan-out, or the timer, takes it
    _schedule_flush(self)


def _schedule_flush(self: RoomHub) -> None:
    loop = asyncio.get_running_loop()
    delay = self.last_send + settings.CHAT_BATCH_WINDOW_MS / 1000 - loop.time()
    if delay <= 0:
        _flush_coalescing(self)
    else:
        self.flush_handle = loop.call_later(delay, _flush_coalescing, self)


def _flush_coalescing(self: RoomHub) -> None:
    self.flush_handle = None
    if getattr(self, "fanning_out", False) or not self.pending:
        return
    frames, self.pending = self.pending, []
    self.last_send = asyncio.get_running_loop().time()
    self.fanning_out = True
    frame = frames[0] if len(frames) == 1 else batch_frame(frames)
    self.process.spawn(_fan_out_then_flush(self, frame))


async def _fan_out_then_flush(self: RoomHub, frame: str) -> None:
    try:
        await self.fan_out(frame)
    finally:
        self.fanning_out = False
        if self.pending and self.flush_handle is None:
            _schedule_flush(self)


def use_coalescing() -> None:
    RoomHub.enqueue = _enqueue_coalescing
    RoomHub._flush_soon = _flush_coalescing


# --- yielding fan-out: let the event loop breathe every few hundred sockets ------------
FAN_OUT_SLICE = 200


async def _fan_out_yielding(self: RoomHub, frame: str) -> None:
    # chat.hub writes to every socket in one go: with 2,000 sockets that is one
    # event-loop turn of 100+ ms, and every Redis reply the room's intake waits for
    # (one per turn) waits behind it. Yielding between slices keeps turns short.
    message = {"type": "websocket.send", "text": frame}
    async with self.send_lock:
        for number, viewer in enumerate(list(self.viewers), 1):
            try:
                await viewer.send(message)
            except Exception:
                log.debug("dropping a viewer whose socket failed", exc_info=True)
                self.viewers.discard(viewer)
            if number % FAN_OUT_SLICE == 0:
                await asyncio.sleep(0)


def use_yielding_fan_out() -> None:
    RoomHub.fan_out = _fan_out_yielding


# --- prebuilt frames: frame once, hand the bytes to every Twisted transport ------------
def websocket_text_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


async def _fan_out_prebuilt(self: RoomHub, frame: str) -> None:
    wire = websocket_text_frame(frame)
    message = {"type": "websocket.send", "text": frame}
    async with self.send_lock:
        for viewer in list(self.viewers):
            send = viewer.send
            if isinstance(send, functools.partial):  # daphne's handle_reply, protocol bound
                protocol = send.args[0]
                if protocol.state == protocol.STATE_OPEN:
                    protocol.transport.write(wire)
                continue
            try:
                await send(message)
            except Exception:
                log.debug("dropping a viewer whose socket failed", exc_info=True)
                self.viewers.discard(viewer)


def use_prebuilt_frames() -> None:
    RoomHub.fan_out = _fan_out_prebuilt


# --- the batch writer takes whatever is queued, however late it wakes -----------------
BATCH_WINDOW = 0.02  # the collection window chat.writer had when this variant was measured


async def _run_draining(self: MessageWriter) -> None:
    loop = asyncio.get_running_loop()
    while True:
        batch = [await self._queue.get()]
        deadline = loop.time() + BATCH_WINDOW
        while len(batch) < BATCH_SIZE:
            # chat.writer checks the deadline first: on a busy loop it has passed by the
            # time the writer wakes, so batches shrink to one message just when many wait.
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), timeout))
            except TimeoutError:
                break
        await self._write(batch)


def use_draining_writer() -> None:
    MessageWriter._run = _run_draining


# --- the pub/sub channel layer ------------------------------------------------------
def use_pubsub_layer() -> None:
    """Swap the default channel layer before anything in this process has made one."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": "livesite"},
        }
    }
    channel_layers.backends = {}


# --- the hub on plain Redis pub/sub: PUBLISH through the shared pool, one subscription ---
class RoomPubSub:
    """What ProcessHub asks of its channel layer, on one Redis pub/sub subscription.

    Publishing is a PUBLISH through realtime.redis_client's connection pool (no
    lock: concurrent senders publish concurrently); receiving is Redis pushing
    every event of the process's rooms down one connection, read in bulk.
    """

    def __init__(self):
        import redis.asyncio as aioredis

        # A subscription is quiet between events: no socket timeout on it.
        self.client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=None)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.events: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None

    async def new_channel(self, prefix: str = "hub") -> str:
        return prefix

    async def group_add(self, group: str, channel: str) -> None:
        await self.pubsub.subscribe(pubsub_channel(group))
        if self.reader is None:
            self.reader = asyncio.get_running_loop().create_task(self._read())

    async def group_discard(self, group: str, channel: str) -> None:
        await self.pubsub.unsubscribe(pubsub_channel(group))

    async def receive(self, channel: str) -> dict:
        return await self.events.get()

    async def _read(self) -> None:
        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message and message["type"] == "message":
                self.events.put_nowait(json.loads(message["data"]))


def pubsub_channel(group: str) -> str:
    return f"livesite:pubsub:{group}"


async def _apublish_direct(room_id: int, event: dict) -> None:
    from realtime.publish import ROOM_EVENT, room_group
    from realtime.redis_client import get_redis

    message = {"type": ROOM_EVENT, "room": room_id, "event": event}
    await get_redis().publish(pubsub_channel(room_group(room_id)), json.dumps(message))


def use_direct_pubsub() -> None:
    import chat.services
    import chat.stream_totals
    import realtime.publish
    from chat.hub import ProcessHub

    plain_init = ProcessHub.__init__

    def init(self) -> None:
        plain_init(self)
        self.layer = RoomPubSub()

    ProcessHub.__init__ = init
    realtime.publish.apublish = chat.stream_totals.apublish = chat.services.apublish = (
        _apublish_direct
    )


# --- the socket's middleware without the session's send wrapper ----------------------
class HandshakeAuthMiddleware:
    """Session and user resolved once at the handshake; `send` passed through unwrapped."""

    def __init__(self, inner):
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
        session = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        scope = dict(scope, cookies=cookies, session=session)
        scope["user"] = await get_user(scope)
        return await self.inner(scope, receive, send)
