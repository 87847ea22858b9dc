"""`published_events`: what a test's code published through realtime.publish, in order.

Tests assert on the events users receive, not on which function was called: the
fixture watches the place every publish ends up (the Redis client's `PUBLISH`,
pipelined or not, or the in-process delivery without Redis) and still lets each
event through, so sockets and hubs see what they would see anyway. An event is
recorded when it is sent, so one published after a commit appears only once the
transaction commits.

Registered for the whole suite in conftest.py (`pytest_plugins`).
"""

import json
from dataclasses import dataclass

import pytest

from realtime import publish


@dataclass(frozen=True)
class PublishedEvent:
    room_id: int | None  # None: an event about a user, sent to every web process
    event: dict

    @property
    def type(self) -> str:
        return self.event["type"]


class PublishedEvents(list):
    """`PublishedEvent`s in the order they were sent."""

    def to_room(self, room_id: int) -> list[dict]:
        return [item.event for item in self if item.room_id == room_id]

    def to_users(self) -> list[dict]:
        return [item.event for item in self if item.room_id is None]

    def of_type(self, *types: str) -> list[dict]:
        return [item.event for item in self if item.type in types]

    def types(self) -> list[str]:
        return [item.type for item in self]

    def record(self, channel: str, payload) -> None:
        if isinstance(payload, bytes):
            payload = payload.decode()
        room_id = None if channel == publish.users_channel() else publish.room_of_channel(channel)
        self.append(PublishedEvent(room_id, json.loads(payload)))


class _RecordingPipeline:
    def __init__(self, pipeline, events: PublishedEvents):
        self._pipeline = pipeline
        self._events = events

    def publish(self, channel, payload):
        self._events.record(channel, payload)
        return self._pipeline.publish(channel, payload)

    def __getattr__(self, name):
        return getattr(self._pipeline, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._pipeline.__exit__(*exc)


class _RecordingClient:
    """A Redis client (blocking or asyncio) whose PUBLISH is recorded, then sent."""

    def __init__(self, client, events: PublishedEvents):
        self._client = client
        self._events = events

    def publish(self, channel, payload):
        self._events.record(channel, payload)
        return self._client.publish(channel, payload)  # a coroutine for the asyncio client

    def pipeline(self, *args, **kwargs):
        return _RecordingPipeline(self._client.pipeline(*args, **kwargs), self._events)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def published_events(monkeypatch) -> PublishedEvents:
    events = PublishedEvents()
    real_sync, real_async = publish.get_sync_redis, publish.get_redis
    to_room, to_users = publish._deliver_to_room, publish._deliver_to_users

    def sync_client(*args, **kwargs):
        client = real_sync(*args, **kwargs)
        return None if client is None else _RecordingClient(client, events)

    def async_client():
        client = real_async()
        return None if client is None else _RecordingClient(client, events)

    async def deliver_to_room(room_id, payload):
        events.record(publish.room_channel(room_id), payload)
        await to_room(room_id, payload)

    async def deliver_to_users(payload):
        events.record(publish.users_channel(), payload)
        await to_users(payload)

    monkeypatch.setattr(publish, "get_sync_redis", sync_client)
    monkeypatch.setattr(publish, "get_redis", async_client)
    monkeypatch.setattr(publish, "_deliver_to_room", deliver_to_room)
    monkeypatch.setattr(publish, "_deliver_to_users", deliver_to_users)
    return events
