"""A seeded, fast mutation fuzzer for the ingest's RTMP parsers, run in-process.

Hypothesis (streaming/rtmp/tests/test_fuzz.py) explores and shrinks, but a few
thousand examples take it minutes; the fault suite wants 100,000 cases inside CI's
budget. This fuzzer mutates real bytes (a recorded ffmpeg publish: handshake, chunk
stream, AMF0 commands and metadata) with plain `random`, one `Random(seed, case)`
per case, so any crash it reports is reproduced by its two numbers alone:

    .venv/bin/python bench/bench_rtmp_fuzz.py --seed 1 --first 4711 --cases 1

A case passes when the parser returns or raises `ProtocolError` (the one exception the
server turns into a clean close) and a chunk decoder stays under its memory bound.
"""

from __future__ import annotations

import itertools
import random
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from streaming.ingest.flv_resume import FlvResume
from streaming.rtmp import amf0, handshake, messages
from streaming.rtmp.chunks import ChunkDecoder, ChunkLimits
from streaming.rtmp.errors import ProtocolError
from streaming.rtmp.flv import FlvMuxer
from streaming.rtmp.messages import MessageType
from streaming.rtmp.tests.capture import CAPTURE_PATH, HANDSHAKE_BYTES

CAPTURE = CAPTURE_PATH.read_bytes()
C0C1 = CAPTURE[: handshake.CLIENT_GREETING_SIZE]
CHUNKS = CAPTURE[HANDSHAKE_BYTES:]
_SEED_MESSAGES = ChunkDecoder().feed(CHUNKS)
AMF_PAYLOADS = [
    m.payload
    for m in _SEED_MESSAGES
    if m.type_id in (MessageType.COMMAND_AMF0, MessageType.DATA_AMF0)
]
# Small limits, so mutated sizes reach them often.
LIMITS = ChunkLimits(
    max_chunk_size=8192,
    max_message_length=64 * 1024,
    max_chunk_streams=8,
    max_pending_bytes=96 * 1024,
)
MEMORY_BOUND = LIMITS.max_pending_bytes + LIMITS.max_chunk_size + 18
INTERESTING = [
    b"\x00", b"\xff", b"\x7f", b"\x80", b"\x3f", b"\xc0", b"\x01",
    b"\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff",
    b"\x00\x01\x00\x00", b"\x00\x00\x10\x00", b"\x09", b"\x0a\xff\xff\xff\xff",
]  # fmt: skip


def mutate(rng: random.Random, data: bytes, rounds: int) -> bytes:
    out = bytearray(data)
    for _ in range(rounds):
        if not out:
            out += rng.randbytes(rng.randint(1, 64))
            continue
        at = rng.randrange(len(out))
        kind = rng.randrange(7)
        if kind == 0:  # flip a bit
            out[at] ^= 1 << rng.randrange(8)
        elif kind == 1:  # a boundary value over a field
            value = rng.choice(INTERESTING)
            out[at : at + len(value)] = value
        elif kind == 2:  # random bytes over or into
            junk = rng.randbytes(rng.randint(1, 32))
            out[at : at + (len(junk) if rng.random() < 0.5 else 0)] = junk
        elif kind == 3:  # delete a run
            del out[at : at + rng.randint(1, 256)]
        elif kind == 4:  # truncate
            del out[at:]
        elif kind == 5:  # repeat a run (splices a chunk header into itself)
            length = rng.randint(1, 512)
            out[at:at] = out[at : at + length]
        else:  # splice in bytes from elsewhere in the recording
            start = rng.randrange(len(CAPTURE))
            out[at:at] = CAPTURE[start : start + rng.randint(1, 1024)]
    return bytes(out)


def reads_of(rng: random.Random, data: bytes) -> list[bytes]:
    """The bytes cut as TCP might deliver them."""
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randrange(6)))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def fuzz_handshake(rng: random.Random) -> None:
    data = mutate(rng, C0C1, rng.randint(1, 4))
    handshake.server_reply(data)
    handshake.check_client_ack(mutate(rng, data[1:], 1))


def fuzz_amf0(rng: random.Random) -> None:
    amf0.decode_all(mutate(rng, rng.choice(AMF_PAYLOADS), rng.randint(1, 6)))


def fuzz_chunk_stream(rng: random.Random) -> None:
    """A mutated stretch of a real publish through everything a connection parses."""
    # Mostly from the first header, which gets past it and into commands and media.
    start = 0 if rng.random() < 0.8 else rng.randrange(len(CHUNKS))
    data = mutate(rng, CHUNKS[start : start + rng.randint(64, 6000)], rng.randint(1, 8))
    decoder = ChunkDecoder(LIMITS)
    muxer = FlvMuxer()
    resume = FlvResume()
    for read in reads_of(rng, data):
        for message in decoder.feed(read):
            if message.type_id in (MessageType.COMMAND_AMF0, MessageType.COMMAND_AMF3):
                messages.parse_command(message)
            elif message.type_id == MessageType.USER_CONTROL:
                messages.parse_user_control(message)
            elif message.type_id in (MessageType.ACKNOWLEDGEMENT, MessageType.WINDOW_ACK_SIZE):
                messages.parse_u32(message)
            flv = muxer.mux(message)
            if flv:
                resume.feed(flv)
        if decoder.buffered_bytes > MEMORY_BOUND:
            raise AssertionError(f"decoder holds {decoder.buffered_bytes} bytes")
    resume.restart()


TARGETS = [(fuzz_chunk_stream, 6), (fuzz_amf0, 3), (fuzz_handshake, 1)]
_WEIGHTED = [target for target, weight in TARGETS for _ in range(weight)]


@dataclass
class FuzzReport:
    seed: int
    cases: int = 0
    seconds: float = 0.0
    by_target: Counter = field(default_factory=Counter)
    refused: int = 0  # cases that ended in ProtocolError
    crashes: list[str] = field(default_factory=list)


def run(seed: int, cases: int, first: int = 0, max_crashes: int = 20) -> FuzzReport:
    report = FuzzReport(seed)
    started = time.perf_counter()
    for case in range(first, first + cases):
        rng = random.Random(seed * 10_000_019 + case)
        target = rng.choice(_WEIGHTED)
        report.by_target[target.__name__] += 1
        try:
            target(rng)
        except ProtocolError:
            report.refused += 1
        except Exception:
            report.crashes.append(
                f"seed {seed} case {case} ({target.__name__}): {traceback.format_exc(limit=-3)}"
            )
            if len(report.crashes) >= max_crashes:
                break
        report.cases += 1
    report.seconds = time.perf_counter() - started
    return report
