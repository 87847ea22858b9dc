"""The textbook Channels chat, served as its own ASGI application: the benchmark's baseline.

This is the consumer of the Channels tutorial, put on Livesite's room-socket
path with Livesite's settings, models and frame shapes, so that it does the
same work as chat.consumers: every socket joins the room's group with
`group_add`; a message is stored with one `database_sync_to_async` ORM insert
(an id from chat.ids, as ours) and broadcast with one `group_send`; every
socket's handler JSON-encodes the event and sends it. It leaves out rate
limits, presence, history and batching, which at 20 messages a second cost
little next to the fan-out being measured.

Serve it with `python -m daphne -b 127.0.0.1 -p PORT bench.chat.baseline:application`.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

import json  # noqa: E402

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat import events  # noqa: E402
from chat.ids import next_message_id, timestamp_ms  # noqa: E402
from chat.models import ChatMessage  # noqa: E402
from rooms.models import Room  # noqa: E402


class TextbookRoomConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.group_name = None
        self.room = await database_sync_to_async(Room.objects.filter(slug=slug).first)()
        if self.room is None:
            await self.close(code=4404)
            return
        # Not the project's room.<id>: the two never share a group in Redis.
        self.group_name = f"textbook.room.{self.room.pk}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        frame = json.loads(text_data)
        if frame.get("type") != "chat.send":
            return
        user = self.scope["user"]
        if not user.is_authenticated:
            error = events.error("not_signed_in", "Log in to chat.")
            await self.send(text_data=json.dumps(error))
            return
        message = await database_sync_to_async(self.store)(user, frame["text"])
        event = events.chat_message(
            message.pk,
            self.room.slug,
            events.user_summary(user.pk, user.public_name, "viewer"),
            message.text,
            timestamp_ms(message.pk),
            frame.get("nonce"),
        )
        await self.channel_layer.group_send(
            self.group_name, {"type": "chat.message", "event": event}
        )

    def store(self, user, text: str) -> ChatMessage:
        return ChatMessage.objects.create(
            id=next_message_id(),
            room=self.room,
            stream_id=self.room.current_stream_id,
            user=user,
            text=text,
            created_at=timezone.now(),
        )

    async def chat_message(self, message):
        await self.send(text_data=json.dumps(message["event"]))


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(
                URLRouter([path("ws/rooms/<slug:slug>/", TextbookRoomConsumer.as_asgi())])
            )
        ),
    }
)
