"""Turns a publisher's RTMP media messages into an FLV byte stream.

RTMP audio and video message bodies are already FLV tag bodies, and the metadata a
publisher sends as `@setDataFrame("onMetaData", {...})` is an FLV script tag once the
`@setDataFrame` prefix is removed. So remuxing is framing only: a 13-byte file header,
then per message an 11-byte tag header and the 4-byte previous-tag-size trailer. The
result is what `av.open(file_like, format="flv")` (and the transcoder behind it) reads.

Hand-written because it is forty lines of framing; a muxing library would decode and
re-encode packets we only need to wrap.

The file header's audio/video flags are taken from the metadata when it arrives before
any media (encoders send it first); otherwise both flags are set, which demuxers accept.
Timestamps are the publisher's RTMP timestamps (32-bit, lower 24 bits plus the FLV
extended byte), not rebased. Data messages other than onMetaData are dropped.
"""

from __future__ import annotations

import struct

from . import amf0
from .errors import ProtocolError
from .messages import Message, MessageType

AUDIO_TAG = 8
VIDEO_TAG = 9
SCRIPT_TAG = 18

HAS_AUDIO = 0x04
HAS_VIDEO = 0x01

_SET_DATA_FRAME = amf0.encode("@setDataFrame")
_ON_METADATA = amf0.encode("onMetaData")
_U32 = struct.Struct(">I")


def file_header(has_audio: bool, has_video: bool) -> bytes:
    """The FLV signature, version and flags, followed by PreviousTagSize0."""
    flags = (HAS_AUDIO if has_audio else 0) | (HAS_VIDEO if has_video else 0)
    return b"FLV\x01" + bytes([flags]) + _U32.pack(9) + _U32.pack(0)


def tag(tag_type: int, timestamp: int, body: bytes) -> bytes:
    """One FLV tag and the previous-tag-size field that follows it."""
    timestamp &= 0xFFFFFFFF
    header = (
        bytes([tag_type])
        + len(body).to_bytes(3, "big")
        + (timestamp & 0xFFFFFF).to_bytes(3, "big")
        + bytes([timestamp >> 24])
        + b"\x00\x00\x00"
    )
    return header + body + _U32.pack(len(header) + len(body))


class FlvMuxer:
    """Feed it every message of one publish; it returns the FLV bytes each one adds."""

    def __init__(self) -> None:
        self.header_written = False

    def mux(self, message: Message) -> bytes:
        """FLV bytes for this message (the file header before the first tag), or b""."""
        if message.type_id == MessageType.AUDIO:
            return self._with_header(tag(AUDIO_TAG, message.timestamp, message.payload))
        if message.type_id == MessageType.VIDEO:
            return self._with_header(tag(VIDEO_TAG, message.timestamp, message.payload))
        if message.type_id == MessageType.DATA_AMF0:
            body = metadata_body(message.payload)
            if body is None:
                return b""
            return self._with_header(tag(SCRIPT_TAG, message.timestamp, body), body)
        return b""

    def _with_header(self, data: bytes, metadata: bytes | None = None) -> bytes:
        if self.header_written:
            return data
        self.header_written = True
        has_audio, has_video = _flags_from_metadata(metadata) if metadata else (True, True)
        return file_header(has_audio, has_video) + data


def metadata_body(payload: bytes) -> bytes | None:
    """The onMetaData script tag body inside a data message, or None if it is not one."""
    if payload.startswith(_SET_DATA_FRAME):
        payload = payload[len(_SET_DATA_FRAME) :]
    if payload.startswith(_ON_METADATA):
        return payload
    return None


def _flags_from_metadata(body: bytes) -> tuple[bool, bool]:
    try:
        values = amf0.decode_all(body)
    except ProtocolError:
        return True, True
    properties = values[1] if len(values) > 1 and isinstance(values[1], dict) else {}
    has_audio = "audiocodecid" in properties
    has_video = "videocodecid" in properties
    if not (has_audio or has_video):
        return True, True
    return has_audio, has_video
