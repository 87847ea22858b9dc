"""Property tests: whatever bytes arrive, the parsers raise ProtocolError or nothing, and
what a connection buffers stays under its limits. Inputs are random bytes and mutations
(bit flips, truncations, splices, overwrites) of a real ffmpeg publish (data/)."""

import asyncio
import contextlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streaming.rtmp import amf0, messages
from streaming.rtmp.chunks import ChunkDecoder, ChunkLimits
from streaming.rtmp.errors import ProtocolError
from streaming.rtmp.flv import FlvMuxer
from streaming.rtmp.messages import MessageType
from streaming.rtmp.server import RtmpServer, ServerLimits

from .capture import CAPTURE_PATH, HANDSHAKE_BYTES
from .harness import Broadcasts, hand_built_chunk
from .rawclient import RawPublisher

CAPTURE = CAPTURE_PATH.read_bytes()
CHUNKS = CAPTURE[HANDSHAKE_BYTES:]
COMMAND_PAYLOADS = [
    m.payload for m in ChunkDecoder().feed(CHUNKS) if m.type_id == MessageType.COMMAND_AMF0
]
# Small limits, so random input reaches them often.
LIMITS = ChunkLimits(
    max_chunk_size=8192,
    max_message_length=64 * 1024,
    max_chunk_streams=8,
    max_pending_bytes=96 * 1024,
)
# The most a decoder may hold: unfinished messages, plus one incomplete chunk and header.
MEMORY_BOUND = LIMITS.max_pending_bytes + LIMITS.max_chunk_size + 18

fuzz = settings(
    database=None,  # keep no example database in the work tree
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "overwrite", "delete"]))
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[position:]
        elif kind == "splice":
            start = draw(st.integers(0, len(original) - 1))
            length = draw(st.integers(1, 5000))
            data[position:position] = original[start : start + length]
        elif kind == "overwrite":
            junk = draw(st.binary(min_size=1, max_size=64))
            data[position : position + len(junk)] = junk
        else:
            del data[position : position + draw(st.integers(1, 500))]
    return bytes(data)


@st.composite
def splits(draw, data: bytes) -> list[bytes]:
    """The same bytes cut into reads of random sizes, as TCP may deliver them."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


INTERESTING_U32 = [0, 1, 127, 128, 4096, 65536, 65537, 2**31 - 1, 2**31, 2**32 - 1]
TYPE_IDS = [*MessageType, 0, 7, 10, 99, 255]
CHUNK_STREAMS = [2, 3, 4, 5, 6, 63, 64, 319, 320, 65599]


@st.composite
def plausible_chunks(draw) -> bytes:
    """Chunk sequences built field by field, so rare headers (Abort, Set Chunk Size with
    odd payloads, extended timestamps, three-byte chunk stream ids) come up often.
    A chunk stream's first chunk has a full header, so most sequences get past it."""
    parts = []
    opened = set()
    for _ in range(draw(st.integers(1, 12))):
        csid = draw(st.sampled_from(CHUNK_STREAMS))
        fmt = draw(st.integers(0, 3) if csid in opened else st.integers(0, 1))
        opened.add(csid)
        timestamp = draw(st.sampled_from([0, 1, 33, 0xFFFFFE, 0xFFFFFF]))
        extended = draw(st.sampled_from(INTERESTING_U32)) if timestamp == 0xFFFFFF else None
        if fmt == 3:
            extended = draw(st.one_of(st.none(), st.sampled_from(INTERESTING_U32)))
        body = draw(
            st.one_of(
                st.binary(max_size=8),
                st.binary(max_size=300),
                st.sampled_from(INTERESTING_U32).map(lambda value: value.to_bytes(4, "big")),
                st.sampled_from(COMMAND_PAYLOADS),
            )
        )
        exact = st.just(len(body))
        length = draw(st.one_of(exact, exact, exact, st.integers(0, 70000)))
        parts.append(
            hand_built_chunk(
                fmt,
                csid,
                timestamp=timestamp,
                length=length,
                type_id=draw(st.one_of(st.integers(1, 6), st.sampled_from(TYPE_IDS))),
                stream_id=draw(st.sampled_from([0, 1, 2**32 - 1])),
                body=body,
                extended=extended,
            )
        )
    return b"".join(parts)


def decode_everything(reads: list[bytes]) -> None:
    """Feed reads to a decoder and parse what comes out, as a connection would."""
    decoder = ChunkDecoder(LIMITS)
    muxer = FlvMuxer()
    try:
        for data in reads:
            for message in decoder.feed(data):
                if message.type_id == MessageType.COMMAND_AMF0:
                    messages.parse_command(message)
                muxer.mux(message)
            assert decoder.buffered_bytes <= MEMORY_BOUND
    except ProtocolError:
        pass
    assert decoder.buffered_bytes <= MEMORY_BOUND + max(map(len, reads), default=0)


@fuzz
@given(st.binary(max_size=20000).flatmap(splits))
def test_random_bytes_only_ever_raise_protocol_error(reads):
    decode_everything(reads)


@fuzz
@given(st.binary(max_size=4000))
def test_random_bytes_behind_a_valid_chunk_header(tail):
    # Start like a real command chunk so the fuzzing reaches deeper than the first byte.
    decode_everything([CHUNKS[:12], tail])


@settings(fuzz, max_examples=800)
@given(plausible_chunks().flatmap(splits))
def test_plausible_chunk_sequences_only_ever_raise_protocol_error(reads):
    decode_everything(reads)


@fuzz
@given(mutated(CHUNKS).flatmap(splits))
def test_mutated_ffmpeg_capture_only_ever_raises_protocol_error(reads):
    decode_everything(reads)


@fuzz
@given(st.binary(max_size=2000))
def test_amf0_random_bytes_only_ever_raise_protocol_error(data):
    with contextlib.suppress(ProtocolError):
        amf0.decode_all(data)


@fuzz
@given(st.sampled_from(COMMAND_PAYLOADS).flatmap(mutated))
def test_amf0_mutated_ffmpeg_commands_only_ever_raise_protocol_error(data):
    with contextlib.suppress(ProtocolError):
        amf0.decode_all(data)


@settings(database=None, deadline=None, max_examples=25, suppress_health_check=list(HealthCheck))
@given(data=mutated(CAPTURE))
def test_server_ends_a_mutated_session_without_an_internal_error(data, rtmp_log):
    """The whole server path: each mutated capture ends with a reason, never a crash."""
    broadcasts = Broadcasts(keys={"capture-key-0001": "capture"})
    limits = ServerLimits(handshake_timeout=0.5, idle_timeout=0.5, publish_timeout=1.0)
    rtmp_log.clear()

    async def scenario():
        async with RtmpServer("127.0.0.1", 0, broadcasts.authorize, limits) as server:
            client = await RawPublisher.open(server.port)
            try:
                await client.send_raw(data)
                client.writer.write_eof()
            except ConnectionError:
                pass
            assert await client.closed_by_server_within(5.0)
            client.close()
            async with asyncio.timeout(3):
                while server.connection_count:
                    await asyncio.sleep(0.01)

    asyncio.run(scenario())
    closing_lines = [r.getMessage() for r in rtmp_log.records if " closed: " in r.getMessage()]
    assert len(closing_lines) == 1
    assert "internal error" not in rtmp_log.text
    for session in broadcasts.sessions.values():
        assert len(session.close_reasons) == 1
