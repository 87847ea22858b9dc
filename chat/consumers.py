"""The room socket, /ws/rooms/<slug>/: parse a frame, call a service, answer.

Async on purpose, unlike Channels' sync default: a web process holds thousands of these.
Each socket registers with its process's room hub (chat.hub), which owns the
process's one room feed (realtime/feed.py), so a socket has no channel of its own.
"""

import functools
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from chat import conf, events, services, socket_frames
from chat.errors import DuplicateMessage, ResumeLimited
from chat.hub import get_process_hub
from chat.protocol import (
    CLOSE_FLOOD,
    CLOSE_SLOW_CONSUMER,
    CLOSE_TOO_MANY_BAD_FRAMES,
    CLOSE_UNKNOWN_ROOM,
    ProtocolError,
    parse_client_frame,
    parse_message_id,
)
from realtime import send_buffer
from realtime.direct_send import SCOPE_KEY as DIRECT_SEND
from realtime.direct_send import websocket_protocol
from realtime.errors import DomainError
from realtime.fan_out import Viewer
from realtime.lean_socket import forget_handshake_headers
from realtime.publish import encode

log = logging.getLogger(__name__)
BAD_FRAMES_BEFORE_CLOSE = 20
RESUME_BURST = 3  # resumes a socket may send back to back before the per-minute rate applies


class RoomConsumer(AsyncWebsocketConsumer):
    # No channel per socket: an alias with no layer behind it makes Channels skip it.
    channel_layer_alias = "no-channel-per-socket"

    async def __call__(self, scope, receive, send):
        """Channels' consumer loop, without its task per socket.

        `AsyncConsumer.__call__` reads `receive` in a task of its own (to wait on a
        channel layer too) and waits on it with `asyncio.wait`: a task, futures and a
        context per socket, for as long as the socket lives. A room socket has no
        channel, so its frames are read and handled in the application's own task.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.hub = None
        self.viewer = None
        # Fan-out frames skip the middleware stack's send wrappers (realtime/direct_send.py).
        direct_send = self.scope.get(DIRECT_SEND, self.base_send)
        self.protocol = websocket_protocol(direct_send)
        self.session = await database_sync_to_async(services.open_session)(self.scope["user"], slug)
        await self.accept()
        if self.protocol is not None:
            forget_handshake_headers(self.protocol)  # held for hours otherwise
        if self.session is None:
            await self.send_event(events.error("unknown_room", "There is no such room."))
            await self.close(code=CLOSE_UNKNOWN_ROOM)
            return
        self.bad_frames = 0
        self.frame_allowance = float(conf.frames_per_second())
        self.frame_clock = time.monotonic()
        self.resume_allowance = float(RESUME_BURST)
        self.resume_clock = self.frame_clock
        session = self.session
        process = get_process_hub()
        self.hub = await process.room(session.room_id, session.slug, session.stream_id)
        await self.send_event(
            events.hello(
                session.slug,
                session.user,
                session.can_chat,
                session.can_moderate,
                session.status,
                session.stream_id,
            )
        )
        await self.send(text_data=self.hub.history_frame())
        # `?monitor=1` from the room's owner or staff (the stream manager's live panel):
        # receives everything, counts in no audience and announces nothing.
        monitor = session.can_manage and b"monitor=1" in self.scope.get("query_string", b"")
        self.viewer = Viewer(
            send=direct_send,
            close=self.close_socket,
            user=session.user,
            can_manage=session.can_manage,
            counted=not monitor,
            protocol=self.protocol,
        )
        self.hub.add(self.viewer)
        if self.hub.audience.count_frame:
            await self.send(text_data=self.hub.audience.count_frame)
        if (
            session.user
            and not monitor
            and self.hub.audience.user_connections[session.user_id] == 1
            and (self.hub.audience.should_announce())
        ):
            await self.publish(events.presence_join(session.user))

    async def disconnect(self, code):
        if self.hub is None or self.viewer is None:
            return
        hub, viewer = self.hub, self.viewer
        self.viewer = None
        last_socket_of_user = hub.remove(viewer)
        if last_socket_of_user and hub.audience.should_announce():
            await self.publish(events.presence_leave(viewer.user))
        await get_process_hub().release(hub)

    async def close_socket(self, code: int) -> None:
        await self.close(code=code)

    async def publish(self, event: dict) -> None:
        from realtime.publish import apublish

        await apublish(self.session.room_id, event)

    async def send_event(self, event: dict) -> None:
        await self.send(text_data=encode(event))

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Every reply of this socket, capped like the fan-out (realtime/send_buffer.py)."""
        if text_data is not None and send_buffer.over_cap(self.protocol):
            if self.viewer is not None and self.hub is not None:
                self.hub.close_slow_consumer(self.viewer)
            else:
                send_buffer.SLOW_CONSUMERS_CLOSED.inc()
                await self.close(code=CLOSE_SLOW_CONSUMER)
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    # --- frames from the client ---------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.viewer is None:
            return
        if not self.take_frame_allowance():
            log.info("closing a flooding socket in room %s", self.session.slug)
            await self.close(code=CLOSE_FLOOD)
            return
        try:
            frame_type, fields = parse_client_frame(text_data)
        except ProtocolError as error:
            self.bad_frames += 1
            if self.bad_frames >= BAD_FRAMES_BEFORE_CLOSE:
                await self.close(code=CLOSE_TOO_MANY_BAD_FRAMES)
                return
            await self.send_event(events.error(error.code, error.message))
            return
        handler = getattr(self, "on_" + frame_type.replace(".", "_"), None)
        if handler is None:  # a frame another app answers (chat/socket_frames.py)
            plugged = socket_frames.handler_for(frame_type)
            if plugged is None:
                await self.send_event(events.error("unknown_type", f"No one answers {frame_type}."))
                return
            handler = functools.partial(plugged, self)
        try:
            await handler(**fields)
        except DomainError as error:  # any app's refusal, chat's or a plugged-in app's
            await self.send_event(events.error(error.code, error.message, **error.details))
        except ProtocolError as error:
            await self.send_event(events.error(error.code, error.message))

    def take_frame_allowance(self) -> bool:
        """A per-socket budget of frames a second (any type); past it, the socket is abusive."""
        now = time.monotonic()
        rate = conf.frames_per_second()
        self.frame_allowance = min(rate * 2, self.frame_allowance + (now - self.frame_clock) * rate)
        self.frame_clock = now
        if self.frame_allowance < 1:
            return False
        self.frame_allowance -= 1
        return True

    async def on_chat_send(self, text: str, nonce: str | None = None):
        try:
            answer = await services.send_message(self.session, self.hub, text, nonce)
        except DuplicateMessage as duplicate:
            answer = await database_sync_to_async(services.original_message_event)(
                self.session, duplicate.original_id, nonce
            )
        if answer is not None:
            await self.send_event(answer)

    async def on_chat_like(self, id: str):  # the protocol's field name
        await services.like_message_async(self.session, parse_message_id(id))

    async def on_like(self, count: int = 1):
        await services.add_likes(self.hub, self.session, count)

    def take_resume_allowance(self) -> None:
        """CHAT_RESUMES_PER_MINUTE per socket, after a small burst."""
        now = time.monotonic()
        rate = conf.resumes_per_minute() / 60
        allowance = self.resume_allowance + (now - self.resume_clock) * rate
        self.resume_allowance = min(float(RESUME_BURST), allowance)
        self.resume_clock = now
        if self.resume_allowance < 1:
            retry_after = round((1 - self.resume_allowance) / rate, 1)
            raise ResumeLimited(
                f"Too many resumes; try again in {retry_after:g} s.", retry_after=retry_after
            )
        self.resume_allowance -= 1

    async def on_resume(self, last_id: str):
        after = parse_message_id(last_id)
        self.take_resume_allowance()
        frame = self.hub.history_frame(after_id=after)
        if frame is None:
            services.check_may_read_older_history(self.session)
            found, complete = await database_sync_to_async(services.message_events_after)(
                self.session.room_id, after, conf.resume_limit()
            )
            frame = json.dumps(events.chat_history(found, complete), ensure_ascii=False)
        await self.send(text_data=frame)

    async def on_ping(self):
        await self.send_event(events.pong())
