"""AMF0, the value encoding of RTMP commands and metadata.

RTMP's connect/publish commands and the onMetaData block are AMF0. The Python AMF
libraries we found are unmaintained, decode AMF3 and class mappings we never need, and
do not promise to fail cleanly on hostile input. This codec is small, supports exactly the
types publishers send, and raises `ProtocolError` (and nothing else) on malformed bytes:
every read is bounds-checked, nesting depth is capped, and counts announced by the peer
are never used to pre-allocate.

Python mapping: number ↔ float (ints are encoded as numbers), boolean ↔ bool,
string/long string ↔ str, object ↔ dict, ECMA array ↔ `EcmaArray` (a dict),
strict array ↔ list, null ↔ None, undefined ↔ `UNDEFINED`, date ↔ aware `datetime`.
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import ProtocolError

NUMBER = 0x00
BOOLEAN = 0x01
STRING = 0x02
OBJECT = 0x03
NULL = 0x05
UNDEFINED_MARKER = 0x06
ECMA_ARRAY = 0x08
OBJECT_END = 0x09
STRICT_ARRAY = 0x0A
DATE = 0x0B
LONG_STRING = 0x0C

# Deep enough for any real metadata, shallow enough that recursion can never overflow.
MAX_DEPTH = 32

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOUBLE = struct.Struct(">d")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_S16 = struct.Struct(">h")


class _Undefined:
    """AMF0 `undefined`, distinct from `null` (None)."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()


class EcmaArray(dict):
    """An associative array; encodes with the ECMA array marker instead of object."""


class ObjectEnd:
    """The object-end marker, returned only when it appears where a value is expected."""

    def __repr__(self) -> str:
        return "OBJECT_END"


OBJECT_END_VALUE = ObjectEnd()


# --- decoding ---------------------------------------------------------------------


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.data = bytes(data)
        self.pos = pos

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise ProtocolError("AMF0 value runs past the end of the message")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("AMF0 value runs past the end of the message")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        return _U16.unpack(self.take(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self.take(4))[0]

    def double(self) -> float:
        return _DOUBLE.unpack(self.take(8))[0]

    def text(self, size: int) -> str:
        try:
            return self.take(size).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("AMF0 string is not valid UTF-8") from None


def decode_value(data: bytes, pos: int = 0) -> tuple[Any, int]:
    """Decode one value at `pos`; return it and the position just after it."""
    reader = _Reader(data, pos)
    value = _read_value(reader, 0)
    return value, reader.pos


def decode_all(data: bytes) -> list[Any]:
    """Decode every value in `data` (a command or data message body)."""
    reader = _Reader(data)
    values = []
    while reader.pos < len(reader.data):
        values.append(_read_value(reader, 0))
    return values


def _read_value(reader: _Reader, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("AMF0 values are nested too deeply")
    marker = reader.u8()
    if marker == NUMBER:
        return reader.double()
    if marker == BOOLEAN:
        return reader.u8() != 0
    if marker == STRING:
        return reader.text(reader.u16())
    if marker == LONG_STRING:
        return reader.text(reader.u32())
    if marker == OBJECT:
        return _read_properties(reader, depth, {})
    if marker == ECMA_ARRAY:
        reader.u32()  # The announced count is often wrong; the end marker is authoritative.
        return _read_properties(reader, depth, EcmaArray())
    if marker == STRICT_ARRAY:
        return _read_strict_array(reader, depth)
    if marker == NULL:
        return None
    if marker == UNDEFINED_MARKER:
        return UNDEFINED
    if marker == DATE:
        return _read_date(reader)
    if marker == OBJECT_END:
        return OBJECT_END_VALUE
    raise ProtocolError(f"unsupported AMF0 type marker 0x{marker:02x}")


def _read_properties(reader: _Reader, depth: int, target: dict) -> dict:
    while True:
        key = reader.text(reader.u16())
        if not key and reader.data[reader.pos : reader.pos + 1] == bytes([OBJECT_END]):
            reader.pos += 1
            return target
        value = _read_value(reader, depth + 1)
        if value is OBJECT_END_VALUE:
            raise ProtocolError("AMF0 object end marker after a non-empty key")
        target[key] = value


def _read_strict_array(reader: _Reader, depth: int) -> list:
    count = reader.u32()
    items = []
    # Each element takes at least one byte, so a lying count fails on the bounds check
    # long before it could allocate anything.
    for _ in range(count):
        value = _read_value(reader, depth + 1)
        if value is OBJECT_END_VALUE:
            raise ProtocolError("AMF0 object end marker inside a strict array")
        items.append(value)
    return items


def _read_date(reader: _Reader) -> datetime:
    milliseconds = reader.double()
    reader.take(2)  # Time zone: reserved by the spec, always sent as zero.
    if not math.isfinite(milliseconds):
        raise ProtocolError("AMF0 date is not a finite number")
    try:
        return _EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise ProtocolError("AMF0 date is out of range") from None


# --- encoding ---------------------------------------------------------------------


def encode(*values: Any) -> bytes:
    """Encode values one after another, as in a command message body."""
    out = bytearray()
    for value in values:
        _write_value(out, value, 0)
    return bytes(out)


def _write_value(out: bytearray, value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError("value is nested too deeply for AMF0")
    if value is None:
        out.append(NULL)
    elif value is UNDEFINED:
        out.append(UNDEFINED_MARKER)
    elif value is OBJECT_END_VALUE:
        out.append(OBJECT_END)
    elif isinstance(value, bool):
        out += bytes([BOOLEAN, 1 if value else 0])
    elif isinstance(value, int | float):
        out.append(NUMBER)
        out += _DOUBLE.pack(float(value))
    elif isinstance(value, str):
        _write_string(out, value)
    elif isinstance(value, EcmaArray):
        out.append(ECMA_ARRAY)
        out += _U32.pack(len(value))
        _write_properties(out, value, depth)
    elif isinstance(value, dict):
        out.append(OBJECT)
        _write_properties(out, value, depth)
    elif isinstance(value, list | tuple):
        out.append(STRICT_ARRAY)
        out += _U32.pack(len(value))
        for item in value:
            _write_value(out, item, depth + 1)
    elif isinstance(value, datetime):
        _write_date(out, value)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as AMF0")


def _write_string(out: bytearray, value: str) -> None:
    raw = value.encode("utf-8")
    if len(raw) <= 0xFFFF:
        out.append(STRING)
        out += _U16.pack(len(raw))
    else:
        out.append(LONG_STRING)
        out += _U32.pack(len(raw))
    out += raw


def _write_properties(out: bytearray, value: dict, depth: int) -> None:
    for key, item in value.items():
        raw = str(key).encode("utf-8")
        if not raw or len(raw) > 0xFFFF:
            raise ValueError("AMF0 property names must be 1 to 65535 bytes")
        out += _U16.pack(len(raw)) + raw
        _write_value(out, item, depth + 1)
    out += b"\x00\x00" + bytes([OBJECT_END])


def _write_date(out: bytearray, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("AMF0 dates must be timezone-aware")
    milliseconds = (value - _EPOCH) / timedelta(milliseconds=1)
    out.append(DATE)
    out += _DOUBLE.pack(milliseconds) + _S16.pack(0)
