"""RTMP messages: type ids, and the commands and control messages a publish needs.

A publisher's conversation with the server, which the builders here produce:

    connect            → Window Ack Size, Set Peer Bandwidth, Set Chunk Size,
                         _result(NetConnection.Connect.Success)
    releaseStream      → _result
    FCPublish          → _result
    createStream       → _result(stream id 1)
    publish(key)       → StreamBegin, onStatus(NetStream.Publish.Start)
                         or onStatus(error, e.g. NetStream.Publish.BadName), then close
    (metadata, audio and video)
    FCUnpublish / deleteStream → the session ends

Written by hand for the same reasons as `amf0` and `chunks`; commands are parsed
strictly (a name and a transaction id first) and anything else raises `ProtocolError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from . import amf0
from .errors import ProtocolError

_U32 = struct.Struct(">I")


class MessageType(IntEnum):
    SET_CHUNK_SIZE = 1
    ABORT = 2
    ACKNOWLEDGEMENT = 3
    USER_CONTROL = 4
    WINDOW_ACK_SIZE = 5
    SET_PEER_BANDWIDTH = 6
    AUDIO = 8
    VIDEO = 9
    DATA_AMF3 = 15
    SHARED_OBJECT_AMF3 = 16
    COMMAND_AMF3 = 17
    DATA_AMF0 = 18
    SHARED_OBJECT_AMF0 = 19
    COMMAND_AMF0 = 20
    AGGREGATE = 22


class UserControlEvent(IntEnum):
    STREAM_BEGIN = 0
    STREAM_EOF = 1
    SET_BUFFER_LENGTH = 3
    PING_REQUEST = 6
    PING_RESPONSE = 7


class PeerBandwidthLimit(IntEnum):
    HARD = 0
    SOFT = 1
    DYNAMIC = 2


# Chunk streams the server writes on: protocol control must use 2; the others are custom.
CONTROL_CHUNK_STREAM = 2
COMMAND_CHUNK_STREAM = 3
STATUS_CHUNK_STREAM = 5

# The one message stream each connection gets from createStream.
PUBLISH_STREAM_ID = 1

CONNECT_SUCCESS = "NetConnection.Connect.Success"
PUBLISH_START = "NetStream.Publish.Start"
PUBLISH_BAD_NAME = "NetStream.Publish.BadName"
UNPUBLISH_SUCCESS = "NetStream.Unpublish.Success"
STREAM_FAILED = "NetStream.Failed"


@dataclass(frozen=True, slots=True)
class Message:
    type_id: int
    timestamp: int
    stream_id: int
    payload: bytes
    chunk_stream_id: int = COMMAND_CHUNK_STREAM


@dataclass(frozen=True)
class Command:
    name: str
    transaction_id: float
    command_object: Any
    arguments: tuple[Any, ...]


# --- parsing ----------------------------------------------------------------------


def parse_command(message: Message) -> Command:
    """Decode an AMF0 (or AMF3-wrapped AMF0) command message."""
    payload = message.payload
    if message.type_id == MessageType.COMMAND_AMF3:
        # An AMF3 command starts with a format byte, then (as sent by publishers) AMF0.
        payload = payload[1:]
    values = amf0.decode_all(payload)
    if len(values) < 2 or not isinstance(values[0], str):
        raise ProtocolError("command message does not start with a name")
    transaction_id = values[1]
    if isinstance(transaction_id, bool) or not isinstance(transaction_id, float):
        raise ProtocolError("command message has no transaction id")
    command_object = values[2] if len(values) > 2 else None
    return Command(values[0], transaction_id, command_object, tuple(values[3:]))


def parse_u32(message: Message) -> int:
    """The single 32-bit field of Acknowledgement, Window Ack Size and Set Peer Bandwidth."""
    if len(message.payload) < 4:
        raise ProtocolError(f"message type {message.type_id} is too short")
    return _U32.unpack_from(message.payload)[0]


def parse_user_control(message: Message) -> tuple[int, bytes]:
    """Split a User Control message into its event type and event data."""
    if len(message.payload) < 2:
        raise ProtocolError("User Control message is too short")
    return int.from_bytes(message.payload[:2], "big"), message.payload[2:]


def stream_key_from_publish_name(name: str) -> str:
    """The stream key in a publish name; encoders append `?query` options to it."""
    return name.split("?", 1)[0]


# --- building ---------------------------------------------------------------------


def _control(type_id: MessageType, payload: bytes) -> Message:
    return Message(type_id, 0, 0, payload, CONTROL_CHUNK_STREAM)


def set_chunk_size(size: int) -> Message:
    return _control(MessageType.SET_CHUNK_SIZE, _U32.pack(size))


def window_ack_size(size: int) -> Message:
    return _control(MessageType.WINDOW_ACK_SIZE, _U32.pack(size))


def set_peer_bandwidth(
    size: int, limit: PeerBandwidthLimit = PeerBandwidthLimit.DYNAMIC
) -> Message:
    return _control(MessageType.SET_PEER_BANDWIDTH, _U32.pack(size) + bytes([limit]))


def acknowledgement(sequence_number: int) -> Message:
    return _control(MessageType.ACKNOWLEDGEMENT, _U32.pack(sequence_number & 0xFFFFFFFF))


def user_control(event: UserControlEvent, data: bytes) -> Message:
    return _control(MessageType.USER_CONTROL, event.to_bytes(2, "big") + data)


def stream_begin(stream_id: int) -> Message:
    return user_control(UserControlEvent.STREAM_BEGIN, _U32.pack(stream_id))


def ping_response(data: bytes) -> Message:
    return user_control(UserControlEvent.PING_RESPONSE, data[:4])


def command(
    name: str, transaction_id: float, command_object: Any, *arguments: Any, stream_id: int = 0
) -> Message:
    payload = amf0.encode(name, transaction_id, command_object, *arguments)
    chunk_stream = STATUS_CHUNK_STREAM if stream_id else COMMAND_CHUNK_STREAM
    return Message(MessageType.COMMAND_AMF0, 0, stream_id, payload, chunk_stream)


def connect_result(transaction_id: float) -> Message:
    properties = {"fmsVer": "FMS/3,5,7,7009", "capabilities": 31.0, "mode": 1.0}
    information = {
        "level": "status",
        "code": CONNECT_SUCCESS,
        "description": "Connection succeeded.",
        "objectEncoding": 0.0,
    }
    return command("_result", transaction_id, properties, information)


def result(transaction_id: float, value: Any = None) -> Message:
    return command("_result", transaction_id, None, value)


def on_status(stream_id: int, level: str, code: str, description: str) -> Message:
    information = {"level": level, "code": code, "description": description}
    return command("onStatus", 0, None, information, stream_id=stream_id)
