import struct

import pytest

from streaming.rtmp import messages
from streaming.rtmp.chunks import ChunkDecoder, ChunkEncoder, ChunkLimits
from streaming.rtmp.errors import ProtocolError
from streaming.rtmp.messages import Message, MessageType

from .capture import CAPTURE_PATH, HANDSHAKE_BYTES
from .harness import hand_built_chunk as chunk

VIDEO = MessageType.VIDEO
AUDIO = MessageType.AUDIO


def feed_bytewise(decoder, data):
    received = []
    for index in range(len(data)):
        received += decoder.feed(data[index : index + 1])
    return received


def test_type_0_chunk_gives_a_whole_message():
    data = chunk(0, 6, timestamp=1000, length=3, stream_id=1, body=b"abc")
    assert ChunkDecoder().feed(data) == [Message(VIDEO, 1000, 1, b"abc", 6)]


def test_message_longer_than_chunk_size_continues_in_type_3_chunks():
    body = bytes(range(256)) + bytes(44)
    data = (
        chunk(0, 6, timestamp=5, length=300, body=body[:128])
        + chunk(3, 6, body=body[128:256])
        + chunk(3, 6, body=body[256:])
    )
    assert ChunkDecoder().feed(data) == [Message(VIDEO, 5, 1, body, 6)]


def test_any_split_of_the_input_gives_the_same_messages():
    body = bytes(300)
    data = chunk(0, 6, length=300, body=body[:128]) + chunk(3, 6, body=body[128:256])
    data += chunk(3, 6, body=body[256:]) + chunk(1, 6, timestamp=33, length=2, body=b"hi")
    assert feed_bytewise(ChunkDecoder(), data) == ChunkDecoder().feed(data)
    assert len(ChunkDecoder().feed(data)) == 2


def test_type_1_chunk_adds_its_delta_and_keeps_the_stream_id():
    data = chunk(0, 4, timestamp=100, length=1, type_id=AUDIO, stream_id=7, body=b"a")
    data += chunk(1, 4, timestamp=23, length=2, type_id=VIDEO, body=b"bc")
    second = ChunkDecoder().feed(data)[1]
    assert (second.timestamp, second.type_id, second.stream_id, second.payload) == (
        123,
        VIDEO,
        7,
        b"bc",
    )


def test_type_2_chunk_reuses_length_and_type():
    data = chunk(0, 4, timestamp=100, length=2, type_id=AUDIO, body=b"aa")
    data += chunk(2, 4, timestamp=21, body=b"bb")
    second = ChunkDecoder().feed(data)[1]
    assert (second.timestamp, second.type_id, second.payload) == (121, AUDIO, b"bb")


def test_type_3_chunk_starting_a_message_repeats_the_previous_delta():
    data = chunk(0, 4, timestamp=100, length=1, body=b"a")
    data += chunk(2, 4, timestamp=20, body=b"b")
    data += chunk(3, 4, body=b"c") + chunk(3, 4, body=b"d")
    assert [m.timestamp for m in ChunkDecoder().feed(data)] == [100, 120, 140, 160]


def test_type_3_chunk_after_type_0_uses_its_timestamp_as_the_delta():
    # RTMP spec 5.3.1.2.4, and what ffmpeg's reader does.
    data = chunk(0, 4, timestamp=40, length=1, body=b"a") + chunk(3, 4, body=b"b")
    assert [m.timestamp for m in ChunkDecoder().feed(data)] == [40, 80]


def test_extended_timestamp_is_read_and_repeated_in_continuations():
    body = bytes(200)
    data = chunk(0, 6, timestamp=0xFFFFFF, length=200, body=body[:128], extended=0x12345678)
    data += chunk(3, 6, body=body[128:], extended=0x12345678)
    assert ChunkDecoder().feed(data) == [Message(VIDEO, 0x12345678, 1, body, 6)]


def test_extended_timestamp_delta_in_a_type_1_chunk():
    data = chunk(0, 6, timestamp=10, length=1, body=b"a")
    data += chunk(1, 6, timestamp=0xFFFFFF, length=1, body=b"b", extended=0x01000000)
    assert ChunkDecoder().feed(data)[1].timestamp == 10 + 0x01000000


def test_timestamps_wrap_at_32_bits():
    data = chunk(0, 6, timestamp=0xFFFFFF, length=1, body=b"a", extended=0xFFFFFFF0)
    data += chunk(2, 6, timestamp=0x20, body=b"b")
    assert ChunkDecoder().feed(data)[1].timestamp == 0x10


@pytest.mark.parametrize("csid", [2, 63, 64, 319, 320, 65599])
def test_one_two_and_three_byte_chunk_stream_ids(csid):
    data = chunk(0, csid, length=1, body=b"x")
    (message,) = ChunkDecoder().feed(data)
    assert message.chunk_stream_id == csid
    assert ChunkEncoder().encode(Message(VIDEO, 0, 1, b"x", csid)) == data


def test_interleaved_chunk_streams_reassemble_separately():
    video, audio = bytes([1]) * 200, bytes([2]) * 150
    data = (
        chunk(0, 6, length=200, body=video[:128])
        + chunk(0, 4, length=150, type_id=AUDIO, body=audio[:128])
        + chunk(3, 6, body=video[128:])
        + chunk(3, 4, body=audio[128:])
    )
    received = ChunkDecoder().feed(data)
    assert [(m.type_id, m.payload) for m in received] == [(VIDEO, video), (AUDIO, audio)]


def test_set_chunk_size_applies_to_the_next_chunk_in_the_same_read():
    body = bytes(range(200))
    data = ChunkEncoder().encode(messages.set_chunk_size(4096))
    data += chunk(0, 6, length=200, body=body)  # one chunk: only valid after the change
    decoder = ChunkDecoder()
    assert decoder.feed(data) == [Message(VIDEO, 0, 1, body, 6)]
    assert decoder.chunk_size == 4096


@pytest.mark.parametrize("size", [0, 127, 65537, 2**31, 2**32 - 1])
def test_absurd_chunk_sizes_are_refused(size):
    data = chunk(0, 2, length=4, type_id=MessageType.SET_CHUNK_SIZE, stream_id=0)
    with pytest.raises(ProtocolError, match="chunk size"):
        ChunkDecoder().feed(data + struct.pack(">I", size))


def test_abort_discards_the_partial_message():
    data = chunk(0, 6, length=300, body=bytes(128))
    data += ChunkEncoder().encode(Message(MessageType.ABORT, 0, 0, struct.pack(">I", 6), 2))
    data += chunk(0, 6, length=2, body=b"ok")
    decoder = ChunkDecoder()
    assert decoder.feed(data) == [Message(VIDEO, 0, 1, b"ok", 6)]
    assert decoder.buffered_bytes == 0


def test_new_header_mid_message_discards_the_partial_message():
    data = chunk(0, 6, length=300, body=bytes(128)) + chunk(1, 6, length=1, body=b"z")
    decoder = ChunkDecoder()
    assert [m.payload for m in decoder.feed(data)] == [b"z"]
    assert decoder.buffered_bytes == 0


def test_zero_length_messages_are_dropped():
    assert ChunkDecoder().feed(chunk(0, 6, length=0) + chunk(3, 6)) == []


def test_message_longer_than_the_limit_is_refused_before_its_body_arrives():
    decoder = ChunkDecoder(ChunkLimits(max_message_length=1000))
    with pytest.raises(ProtocolError, match="exceeds"):
        decoder.feed(chunk(0, 6, length=1001))


def test_too_many_chunk_streams_are_refused():
    decoder = ChunkDecoder(ChunkLimits(max_chunk_streams=3))
    decoder.feed(b"".join(chunk(0, csid, length=1, body=b"x") for csid in (3, 4, 5)))
    with pytest.raises(ProtocolError, match="chunk streams"):
        decoder.feed(chunk(0, 6, length=1, body=b"x"))


def test_unfinished_messages_cannot_grow_past_the_pending_limit():
    decoder = ChunkDecoder(ChunkLimits(max_pending_bytes=1000))
    with pytest.raises(ProtocolError, match="unfinished"):
        for csid in range(3, 20):
            decoder.feed(chunk(0, csid, length=10000, body=bytes(128)))
    assert decoder.buffered_bytes <= 1000 + 140


@pytest.mark.parametrize("fmt", [2, 3])
def test_chunk_stream_cannot_start_without_length_and_type(fmt):
    with pytest.raises(ProtocolError, match="starts without"):
        ChunkDecoder().feed(chunk(fmt, 6, body=b"x"))


def test_type_1_chunk_may_open_a_chunk_stream_as_librtmp_does():
    (message,) = ChunkDecoder().feed(chunk(1, 6, timestamp=33, length=1, body=b"x"))
    assert (message.timestamp, message.stream_id) == (33, 0)


@pytest.mark.parametrize("chunk_size", [128, 1000, 4096, 65536])
@pytest.mark.parametrize("timestamp", [0, 0xFFFFFE, 0xFFFFFF, 0x7FFFFFFF])
def test_encoder_output_decodes_to_the_same_message(chunk_size, timestamp):
    message = Message(VIDEO, timestamp, 1, bytes(range(256)) * 40, 6)
    data = ChunkEncoder(chunk_size).encode(message)
    assert ChunkDecoder(chunk_size=chunk_size).feed(data) == [message]


def test_real_ffmpeg_publish_decodes_into_commands_and_media():
    capture = CAPTURE_PATH.read_bytes()[HANDSHAKE_BYTES:]
    received = ChunkDecoder().feed(capture)
    commands = [
        messages.parse_command(m).name for m in received if m.type_id == MessageType.COMMAND_AMF0
    ]
    assert commands[:5] == ["connect", "releaseStream", "FCPublish", "createStream", "publish"]
    assert "deleteStream" in commands
    videos = [m for m in received if m.type_id == VIDEO]
    audios = [m for m in received if m.type_id == AUDIO]
    assert len(videos) >= 25 and len(audios) >= 25
    assert videos[-1].timestamp >= 900  # one second of 30 fps video
    assert feed_bytewise(ChunkDecoder(), capture) == received
