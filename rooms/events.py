"""Builders of the real-time events the rooms app sends (shapes in docs/protocol.md)."""


def room_status(room) -> dict:
    return {
        "type": "room.status",
        "room": room.slug,
        "status": room.status,
        "stream": room.current_stream_id,
    }
