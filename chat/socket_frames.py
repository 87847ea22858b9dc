"""Frames of the room socket that other apps answer: gifts' `gift.send`, moderation's `mod.*`.

Chat owns the socket and its protocol (chat/protocol.py parses every frame, whoever
answers it); an app registers a handler for its frame types in its AppConfig.ready(),
so chat imports neither gifts nor moderation.

A handler is `async handler(socket, **fields)`. `socket` is the RoomConsumer: it gives
`socket.session` (chat.services.Session), `socket.scope["user"]` and
`await socket.send_event(event)`. A `realtime.errors.DomainError` a handler raises is
answered as an `error` frame, like the consumer's own (one mapping, in the consumer).
"""

from collections.abc import Awaitable, Callable

FrameHandler = Callable[..., Awaitable[None]]

_handlers: dict[str, FrameHandler] = {}


def register_frame(frame_type: str, handler: FrameHandler) -> None:
    _handlers[frame_type] = handler


def handler_for(frame_type: str) -> FrameHandler | None:
    return _handlers.get(frame_type)
