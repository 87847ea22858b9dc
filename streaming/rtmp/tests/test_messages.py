import pytest

from streaming.rtmp import amf0, messages
from streaming.rtmp.errors import ProtocolError
from streaming.rtmp.messages import Message, MessageType


def command_message(*values, type_id=MessageType.COMMAND_AMF0, prefix=b""):
    return Message(type_id, 0, 0, prefix + amf0.encode(*values))


def test_publish_command_is_parsed():
    command = messages.parse_command(command_message("publish", 5.0, None, "key", "live"))
    assert command == messages.Command("publish", 5.0, None, ("key", "live"))


def test_amf3_wrapped_command_is_parsed():
    message = command_message("connect", 1.0, {"app": "live"}, type_id=17, prefix=b"\x00")
    assert messages.parse_command(message).command_object == {"app": "live"}


@pytest.mark.parametrize(
    "values",
    [
        pytest.param((), id="empty"),
        pytest.param(("connect",), id="no transaction id"),
        pytest.param((1.0, 1.0), id="name not a string"),
        pytest.param(("connect", "1"), id="transaction id not a number"),
        pytest.param(("connect", True), id="transaction id a boolean"),
    ],
)
def test_commands_without_name_and_transaction_id_are_refused(values):
    with pytest.raises(ProtocolError):
        messages.parse_command(command_message(*values))


@pytest.mark.parametrize(
    ("publish_name", "stream_key"),
    [
        ("abc123", "abc123"),
        ("abc123?bitrate=2500", "abc123"),
        ("abc123?a=1?b=2", "abc123"),
        ("?only=query", ""),
        ("", ""),
    ],
)
def test_stream_key_is_the_publish_name_without_its_query(publish_name, stream_key):
    assert messages.stream_key_from_publish_name(publish_name) == stream_key


def test_connect_result_says_success():
    result = messages.parse_command(messages.connect_result(1.0))
    assert (result.name, result.transaction_id) == ("_result", 1.0)
    assert result.arguments[0]["code"] == messages.CONNECT_SUCCESS


def test_on_status_goes_on_the_publish_stream():
    message = messages.on_status(1, "error", messages.PUBLISH_BAD_NAME, "Unknown stream key.")
    assert message.stream_id == 1
    status = messages.parse_command(message).arguments[0]
    assert status == {
        "level": "error",
        "code": "NetStream.Publish.BadName",
        "description": "Unknown stream key.",
    }


def test_control_messages_have_their_wire_layout():
    assert messages.set_chunk_size(4096).payload == b"\x00\x00\x10\x00"
    assert messages.window_ack_size(2_500_000).payload == (2_500_000).to_bytes(4, "big")
    assert messages.set_peer_bandwidth(2_500_000).payload[-1] == 2
    assert messages.stream_begin(1).payload == b"\x00\x00\x00\x00\x00\x01"
    assert messages.acknowledgement(2**32 + 5).payload == b"\x00\x00\x00\x05"
    assert all(
        m.chunk_stream_id == messages.CONTROL_CHUNK_STREAM
        for m in (messages.set_chunk_size(1), messages.window_ack_size(1))
    )


def test_short_control_messages_are_refused():
    with pytest.raises(ProtocolError):
        messages.parse_u32(Message(MessageType.WINDOW_ACK_SIZE, 0, 0, b"\x00\x01"))
    with pytest.raises(ProtocolError):
        messages.parse_user_control(Message(MessageType.USER_CONTROL, 0, 0, b"\x00"))
