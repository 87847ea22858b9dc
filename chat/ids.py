"""Time-ordered 63-bit message ids, made in the web process without a database round trip.

Chat messages are written in batches (chat.writer), and a message's id must be
known before its batch is written: it goes into the sender's acknowledgement
and into `resume {last_id}`. MySQL does not return ids from a multi-row
INSERT, so ids are made here, in the familiar "snowflake" layout:
41 bits of milliseconds since 2026-01-01, 10 bits of process number, 12 bits
of sequence within the millisecond. Ids sort by time, so `id > last_id` is
"newer than what I saw". They exceed JavaScript's safe integers, so the
protocol carries them as strings.

Process numbers come from a Redis counter when Redis is configured (every web
process of a deployment gets a different one), else 0 (one process).
"""

import threading
import time

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
PROCESS_BITS = 10
SEQUENCE_BITS = 12
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1


class IdGenerator:
    def __init__(self, process_number: int):
        self.process_number = process_number % (1 << PROCESS_BITS)
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now = max(int(time.time() * 1000), self._last_ms)  # never run backwards
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:  # 4096 ids this millisecond: borrow the next one
                    now += 1
            else:
                self._sequence = 0
            self._last_ms = now
            return (
                ((now - EPOCH_MS) << (PROCESS_BITS + SEQUENCE_BITS))
                | (self.process_number << SEQUENCE_BITS)
                | self._sequence
            )


def timestamp_ms(message_id: int) -> int:
    return (message_id >> (PROCESS_BITS + SEQUENCE_BITS)) + EPOCH_MS


_generator: IdGenerator | None = None


def _process_number() -> int:

    from realtime.redis_client import data_url, new_client

    if not data_url():
        return 0
    client = new_client(data_url())
    try:
        return int(client.incr("livesite:chat:process-number"))
    finally:
        client.close()


def next_message_id() -> int:
    global _generator
    if _generator is None:
        _generator = IdGenerator(_process_number())
    return _generator.next_id()
