"""Parsing the frames a client sends on the room socket (documented in docs/protocol.md).

Every frame is a JSON object with a `type`; each type has a fixed set of typed
fields. Anything else is refused with a ProtocolError naming what was wrong,
which the consumer sends back as an `error` frame. Frames over MAX_FRAME_BYTES
are refused before they are parsed.
"""

import json
from dataclasses import dataclass

from realtime import control

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 4096

# Close codes (4000-4999 are the application's).
CLOSE_UNKNOWN_ROOM = 4404
CLOSE_FLOOD = 4429
CLOSE_TOO_MANY_BAD_FRAMES = 4400
# Banned, and rights changed: sent by the real-time base's control events.
CLOSE_BANNED = control.CLOSE_BANNED
CLOSE_RIGHTS_CHANGED = control.CLOSE_RIGHTS_CHANGED
# The client left more than WEBSOCKET_SEND_BUFFER_BYTES unread: closed by the base's fan-out
# (realtime/send_buffer.py).
CLOSE_SLOW_CONSUMER = control.CLOSE_SLOW_CONSUMER


class ProtocolError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = True
    max_length: int | None = None


# type -> fields. `int` fields refuse booleans (json's true is a Python int); `bool` fields
# take only true and false.
CLIENT_FRAMES: dict[str, dict[str, Field]] = {
    "chat.send": {"text": Field(str, max_length=1000), "nonce": Field(str, False, 64)},
    "chat.like": {"id": Field(str, max_length=20)},
    "like": {"count": Field(int, False)},
    "resume": {"last_id": Field(str, max_length=20)},
    "ping": {},
    # Moderator tools (moderation.services answers who may use them).
    "mod.delete": {"id": Field(str, max_length=20)},
    "mod.timeout": {
        "user_id": Field(int),
        "minutes": Field(int),
        "reason": Field(str, False, 500),
    },
    "mod.ban": {"user_id": Field(int), "reason": Field(str, False, 500)},
    "mod.unban": {"user_id": Field(int)},
    "mod.slow": {"seconds": Field(int)},
    "mod.clear": {},
    "mod.followers_only": {"on": Field(bool)},
    "gift.send": {
        "gift": Field((str, int), max_length=64),
        "quantity": Field(int),
        "idempotency_key": Field(str, max_length=64),
    },
}


def parse_client_frame(text: str | None) -> tuple[str, dict]:
    """The frame's type and its fields, checked; raises ProtocolError."""
    if text is None:
        raise ProtocolError("bad_frame", "Send JSON text frames, not binary.")
    if len(text) > MAX_FRAME_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise ProtocolError("too_large", f"Frames are at most {MAX_FRAME_BYTES} bytes.")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.") from None
    if not isinstance(frame, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.")
    frame_type = frame.get("type")
    if not isinstance(frame_type, str) or frame_type not in CLIENT_FRAMES:
        raise ProtocolError("unknown_type", f"Unknown frame type {str(frame_type)[:40]!r}.")
    fields = {}
    for name, spec in CLIENT_FRAMES[frame_type].items():
        if name not in frame or frame[name] is None:
            if spec.required:
                raise ProtocolError("bad_field", f"{frame_type} needs the field {name!r}.")
            continue
        value = frame[name]
        if isinstance(value, bool) != (spec.kind is bool) or not isinstance(value, spec.kind):
            raise ProtocolError("bad_field", f"{frame_type}: {name!r} has the wrong type.")
        if spec.max_length and isinstance(value, str) and len(value) > spec.max_length:
            raise ProtocolError("bad_field", f"{frame_type}: {name!r} is too long.")
        fields[name] = value
    return frame_type, fields


def parse_message_id(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise ProtocolError("bad_field", "A message id is a string of digits.")
    return int(value)
