"""The outgoing buffer cap of a room socket: a client that stops reading is closed.

Twisted buffers whatever a socket's peer does not read, without limit; a client that
never reads (or a `resume` loop whose answers it never takes) made one daphne grow by
megabytes a second until its ping timeout, and the memory stayed. Before each write,
the hub (fan-out) and the consumer (its own replies) ask `over_cap`; a socket past
WEBSOCKET_SEND_BUFFER_BYTES gets close code 4408 instead of the frame. Its close frame
queues behind the unread bytes, so autobahn's close-handshake timeout (1 s) aborts the
TCP connection, which frees the buffer. Only daphne sockets have a buffer to measure
(realtime/direct_send.py); any other server passes.
"""

from prometheus_client import Counter

from realtime import conf
from realtime.direct_send import buffered_bytes

SLOW_CONSUMERS_CLOSED = Counter(
    "livesite_websocket_slow_consumers_closed_total",
    "Room sockets closed because the client left too many bytes unread (close code 4408)",
)


def over_cap(protocol) -> bool:
    return protocol is not None and buffered_bytes(protocol) > conf.send_buffer_bytes()
