import struct
from dataclasses import replace

from streaming.rtmp import amf0, flv
from streaming.rtmp.amf0 import EcmaArray
from streaming.rtmp.chunks import ChunkDecoder
from streaming.rtmp.flv import FlvMuxer
from streaming.rtmp.messages import Message, MessageType

from .capture import CAPTURE_PATH, HANDSHAKE_BYTES
from .harness import decode_flv

MEDIA_TYPES = (MessageType.AUDIO, MessageType.VIDEO, MessageType.DATA_AMF0)


def captured_media() -> list[Message]:
    received = ChunkDecoder().feed(CAPTURE_PATH.read_bytes()[HANDSHAKE_BYTES:])
    return [m for m in received if m.type_id in MEDIA_TYPES]


def remux(media: list[Message]) -> bytes:
    muxer = FlvMuxer()
    return b"".join(muxer.mux(message) for message in media)


def tags(data: bytes) -> list[tuple[int, int, bytes]]:
    """Walk an FLV file, checking every previous-tag-size; return (type, time, body)."""
    assert data[:3] == b"FLV"
    position = struct.unpack_from(">I", data, 5)[0]
    assert struct.unpack_from(">I", data, position) == (0,)
    position += 4
    found = []
    while position < len(data):
        tag_type = data[position]
        size = int.from_bytes(data[position + 1 : position + 4], "big")
        timestamp = int.from_bytes(data[position + 4 : position + 7], "big")
        timestamp |= data[position + 7] << 24
        body = data[position + 11 : position + 11 + size]
        position += 11 + size
        assert struct.unpack_from(">I", data, position) == (11 + size,)
        position += 4
        found.append((tag_type, timestamp, body))
    return found


def test_ffmpeg_publish_remuxed_to_flv_decodes_with_pyav():
    decoded = decode_flv(remux(captured_media()))
    assert (decoded.width, decoded.height) == (160, 120)
    assert decoded.video_packets >= 25
    assert decoded.audio_packets >= 25
    assert 0.8 <= decoded.video_seconds <= 1.1


def test_previous_tag_sizes_and_timestamps_match_the_messages():
    media = captured_media()
    found = tags(remux(media))
    assert len(found) == len(media)
    for message, (tag_type, timestamp, body) in zip(media, found, strict=True):
        assert tag_type == message.type_id
        assert timestamp == message.timestamp
        if tag_type != flv.SCRIPT_TAG:
            assert body == message.payload


def test_timestamps_past_24_bits_use_the_extended_byte():
    offset = 0x01000000 + 5000  # about 4.7 hours into a broadcast
    media = [replace(m, timestamp=m.timestamp + offset) for m in captured_media()]
    data = remux(media)
    assert {timestamp >> 24 for _, timestamp, _ in tags(data)} == {1}
    decoded = decode_flv(data)
    assert (decoded.width, decoded.height) == (160, 120)
    assert 0.8 <= decoded.video_seconds <= 1.1


def test_set_data_frame_becomes_an_on_metadata_script_tag():
    properties = EcmaArray(width=160.0, height=120.0, videocodecid=7.0)
    payload = amf0.encode("@setDataFrame", "onMetaData", properties)
    data = FlvMuxer().mux(Message(MessageType.DATA_AMF0, 0, 1, payload))
    ((tag_type, _, body),) = tags(data)
    assert tag_type == flv.SCRIPT_TAG
    assert amf0.decode_all(body) == ["onMetaData", properties]


def test_header_flags_follow_the_metadata_sent_before_media():
    video_only = amf0.encode("@setDataFrame", "onMetaData", EcmaArray(videocodecid=7.0))
    data = FlvMuxer().mux(Message(MessageType.DATA_AMF0, 0, 1, video_only))
    assert data[4] == flv.HAS_VIDEO
    both = amf0.encode("onMetaData", EcmaArray(videocodecid=7.0, audiocodecid=10.0))
    data = FlvMuxer().mux(Message(MessageType.DATA_AMF0, 0, 1, both))
    assert data[4] == flv.HAS_VIDEO | flv.HAS_AUDIO


def test_media_without_metadata_announces_audio_and_video():
    data = FlvMuxer().mux(Message(MessageType.VIDEO, 0, 1, b"\x17\x00"))
    assert data[:5] == b"FLV\x01" + bytes([flv.HAS_AUDIO | flv.HAS_VIDEO])


def test_header_is_written_once():
    muxer = FlvMuxer()
    first = muxer.mux(Message(MessageType.AUDIO, 0, 1, b"\xaf\x00"))
    second = muxer.mux(Message(MessageType.AUDIO, 23, 1, b"\xaf\x01"))
    assert first.startswith(b"FLV") and not second.startswith(b"FLV")
    assert len(tags(first + second)) == 2


def test_other_data_messages_and_types_are_dropped():
    muxer = FlvMuxer()
    cue_point = amf0.encode("onCuePoint", {"name": "x"})
    assert muxer.mux(Message(MessageType.DATA_AMF0, 0, 1, cue_point)) == b""
    assert muxer.mux(Message(MessageType.AGGREGATE, 0, 1, b"\x00")) == b""
    assert not muxer.header_written
