"""Opening room sockets in tests: WebsocketCommunicator against the real routing."""

import json
import time

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from chat.hub import stop_process_hub
from chat.routing import websocket_urlpatterns
from realtime.redis_client import close_redis

TIMEOUT = 5


class Client:
    """A viewer's socket, with helpers that read frames until one of a type arrives."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.seen: list[dict] = []

    async def send(self, frame: dict | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = TIMEOUT) -> dict:
        frame = json.loads(await self.communicator.receive_from(timeout))
        frames = frame["events"] if frame["type"] == "batch" else [frame]
        self.seen.extend(frames)
        return frame

    async def expect(self, frame_type: str, timeout: float = TIMEOUT, **match) -> dict:
        """The next frame of `frame_type` (looking inside batches) whose fields match."""
        for index, event in enumerate(self.seen):
            if event["type"] == frame_type and all(event.get(k) == v for k, v in match.items()):
                return self.seen.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {frame_type} {match} within {timeout} s; saw {self.seen}")
            await self.receive(left)
            for index, event in enumerate(self.seen):
                if event["type"] == frame_type and all(event.get(k) == v for k, v in match.items()):
                    return self.seen.pop(index)

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def open_socket():
    """Opens viewer sockets; at the end closes them and this loop's hub and Redis clients."""
    clients = []

    async def open_(room, user=None, path=None) -> Client:
        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), path or f"/ws/rooms/{room.slug}/"
        )
        communicator.scope["user"] = user or AnonymousUser()
        connected, _ = await communicator.connect(TIMEOUT)
        assert connected
        client = Client(communicator)
        clients.append(client)
        return client

    yield open_
    for client in clients:
        await client.communicator.disconnect(timeout=2)
    await stop_process_hub()
    await close_redis()
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
