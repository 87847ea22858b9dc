import math
from datetime import UTC, datetime

import pytest

from streaming.rtmp import amf0
from streaming.rtmp.amf0 import UNDEFINED, EcmaArray
from streaming.rtmp.errors import ProtocolError


def test_connect_command_round_trips():
    values = [
        "connect",
        1.0,
        {"app": "live", "tcUrl": "rtmp://127.0.0.1/live", "fpad": False, "audioCodecs": 3191.0},
    ]
    assert amf0.decode_all(amf0.encode(*values)) == values


def test_every_supported_type_round_trips():
    values = [
        42.5,
        True,
        False,
        "stream",
        "x" * 70000,  # longer than 65535 bytes: encoded as a long string
        None,
        UNDEFINED,
        EcmaArray(width=640.0, height=360.0),
        [1.0, "two", None, {"three": 3.0}],
        datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        {"nested": {"deeper": [EcmaArray(a=1.0)]}},
    ]
    decoded = amf0.decode_all(amf0.encode(*values))
    assert decoded == values
    assert isinstance(decoded[7], EcmaArray)
    assert decoded[6] is UNDEFINED


def test_wire_format_matches_the_spec():
    assert amf0.encode(1.0) == b"\x00\x3f\xf0\x00\x00\x00\x00\x00\x00"
    assert amf0.encode(True) == b"\x01\x01"
    assert amf0.encode("ab") == b"\x02\x00\x02ab"
    assert amf0.encode({"a": None}) == b"\x03\x00\x01a\x05\x00\x00\x09"
    assert amf0.encode(EcmaArray(a=None)) == b"\x08\x00\x00\x00\x01\x00\x01a\x05\x00\x00\x09"
    assert amf0.encode([None]) == b"\x0a\x00\x00\x00\x01\x05"
    assert amf0.encode(UNDEFINED) == b"\x06"
    assert amf0.encode(datetime(1970, 1, 1, tzinfo=UTC)) == b"\x0b" + bytes(8) + b"\x00\x00"
    assert amf0.encode("é" * 40000)[0] == amf0.LONG_STRING


def test_object_end_marker_decodes_where_a_value_stands():
    assert amf0.decode_all(b"\x09") == [amf0.OBJECT_END_VALUE]


def test_ecma_array_with_a_wrong_count_is_read_to_its_end_marker():
    # Encoders often write 0 as the count; the end marker is what counts.
    data = b"\x08\x00\x00\x00\x00\x00\x05width\x00" + bytes(8) + b"\x00\x00\x09"
    assert amf0.decode_all(data) == [EcmaArray(width=0.0)]


def test_nan_number_decodes():
    (value,) = amf0.decode_all(b"\x00\x7f\xf8" + bytes(6))
    assert math.isnan(value)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\x3f\xf0", id="truncated number"),
        pytest.param(b"\x01", id="boolean without its byte"),
        pytest.param(b"\x02\x00\x05ab", id="string shorter than announced"),
        pytest.param(b"\x0c\xff\xff\xff\xff", id="long string of 4 GiB announced"),
        pytest.param(b"\x02\x00\x02\xff\xfe", id="string not utf-8"),
        pytest.param(b"\x03\x00\x01a\x05", id="object without end marker"),
        pytest.param(b"\x03\x00\x01a\x09", id="object end after a key"),
        pytest.param(b"\x0a\xff\xff\xff\xff\x05", id="strict array count larger than data"),
        pytest.param(b"\x0a\x00\x00\x00\x01\x09", id="object end inside strict array"),
        pytest.param(b"\x08\x00\x00", id="truncated ecma array count"),
        pytest.param(b"\x0b\x7f\xf0" + bytes(6) + b"\x00\x00", id="infinite date"),
        pytest.param(b"\x0b\x7f\xef" + b"\xff" * 6 + b"\x00\x00", id="date out of range"),
        pytest.param(b"\x0b" + bytes(8), id="date without time zone"),
        pytest.param(b"\x07\x00\x01", id="reference type not supported"),
        pytest.param(b"\x11\x00", id="amf3 switch not supported"),
        pytest.param(b"\x03" * 200, id="nesting deeper than the limit"),
        pytest.param(b"\x0a\x00\x00\x00\x01" * 200, id="array nesting deeper than the limit"),
    ],
)
def test_malformed_input_raises_protocol_error(data):
    with pytest.raises(ProtocolError):
        amf0.decode_all(data)


def test_decode_value_returns_the_position_after_the_value():
    data = amf0.encode("@setDataFrame", "onMetaData")
    value, position = amf0.decode_value(data)
    assert value == "@setDataFrame"
    assert amf0.decode_value(data, position) == ("onMetaData", len(data))


def test_values_that_amf0_cannot_hold_are_refused_when_encoding():
    with pytest.raises(TypeError):
        amf0.encode(object())
    with pytest.raises(ValueError, match="timezone"):
        amf0.encode(datetime(2024, 1, 1))
