"""A frame's RTP packets to one viewer sent with one system call (UDP GSO), not one each.

Each real-time viewer's sender writes a 720p frame as about eight RTP packets, each a
`sendto` of its own. A profile of a process serving 40 WHEP viewers put a third of its
CPU in those calls (docs/benchmarks.md, issue 15). Linux (4.18 and later) can take many
datagrams to one address in one `sendmsg`, cut by the kernel into datagrams of a given
size (the `UDP_SEGMENT` option, "generic segmentation offload"): the receiver sees the
same datagrams, in the same order.

aioice sends every datagram of an established pair through `StunProtocol.send_data`, and
aiortc's senders write a whole frame without giving the event loop a turn. So we wrap
`send_data` (aioice has no hook for it; encoded_frames.py wraps aiortc the same way): a
protocol's datagrams queue until the end of the loop's turn, then go out in runs of equal
size (the last of a run may be shorter), each run one `sendmsg`. A lone datagram, a
transport with a write backlog, a full socket buffer, a kernel without GSO, or a TURN
relay's transport (which has no socket: it wraps each datagram) takes the transport's own
`sendto` path, as before; the first failure that says the kernel or the
interface cannot segment turns GSO off for the process. STUN messages (connectivity and
consent checks) are not queued: they go as aioice sends them.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import struct
import weakref

from aioice import ice as aioice_ice

logger = logging.getLogger("livesite.webrtc")

UDP_SEGMENT = getattr(socket, "UDP_SEGMENT", 103)  # linux/udp.h
MAX_SEGMENTS = 64  # the kernel's UDP_MAX_SEGMENTS
MAX_BYTES = 65_000  # one datagram's worth, under IPv4's 65,507 and IPv6's limit

# What sendmsg answers when the kernel or the interface cannot segment UDP.
NO_OFFLOAD = {errno.EIO, errno.EINVAL, errno.ENOPROTOOPT, errno.EOPNOTSUPP}

_enabled = True
_MARK = "_livesite_batched"


class _Pending:
    __slots__ = ("addr", "datagrams", "sock")

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock
        self.addr: tuple[str, int] | None = None
        self.datagrams: list[bytes] = []


_pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _state(protocol) -> _Pending:
    state = _pending.get(protocol)
    if state is None:
        raw = protocol.transport.get_extra_info("socket")
        sock = raw.dup() if raw is not None else None  # asyncio's wrapper has no sendmsg
        if sock is not None:
            sock.setblocking(False)
            weakref.finalize(protocol, sock.close)
        state = _pending[protocol] = _Pending(sock)
    return state


async def send_data(self, data: bytes, addr: tuple[str, int]) -> None:
    state = _state(self) if _enabled else None
    if state is None or state.sock is None:
        # A TURN allocation's transport has no socket of its own: it wraps each datagram
        # for the TURN server, so it sends them one by one, as aioice does.
        self.transport.sendto(data, addr)
        return
    if state.datagrams and addr != state.addr:
        _flush(self)
    if not state.datagrams:
        state.addr = addr
        asyncio.get_running_loop().call_soon(_flush, self)
    state.datagrams.append(data)


def send_now(protocol, datagrams: list[bytes], addr: tuple[str, int]) -> None:
    """Send these datagrams to `addr` now, in runs of one `sendmsg` where the kernel can
    (after any `send_data` left queued for this turn, so their order is kept). For a
    caller that has a whole frame's datagrams at hand (direct_sending.py)."""
    state = _state(protocol) if _enabled else None
    if state is None or state.sock is None:
        _send_one_by_one(protocol.transport, datagrams, addr)
        return
    if state.datagrams:
        _flush(protocol)
    _send_runs(protocol.transport, state.sock, datagrams, addr)


def _flush(protocol) -> None:
    state = _pending.get(protocol)
    if state is None or not state.datagrams:
        return
    datagrams, addr = state.datagrams, state.addr
    state.datagrams = []
    _send_runs(protocol.transport, state.sock, datagrams, addr)


def _send_runs(transport, sock: socket.socket, datagrams: list[bytes], addr) -> None:
    if transport.is_closing():
        return
    if transport.get_write_buffer_size():
        _send_one_by_one(transport, datagrams, addr)
        return
    start = 0
    while start < len(datagrams):
        end = _run_end(datagrams, start)
        if end - start == 1:
            transport.sendto(datagrams[start], addr)
        elif not _send_segmented(sock, datagrams[start:end], addr):
            _send_one_by_one(transport, datagrams[start:], addr)
            return
        start = end


def _run_end(datagrams: list[bytes], start: int) -> int:
    """The end of the run from `start`: datagrams of one size, then maybe a shorter one."""
    size = len(datagrams[start])
    most = min(MAX_SEGMENTS, MAX_BYTES // size) if size else 1
    end = start + 1
    while end < len(datagrams) and end - start < most and len(datagrams[end]) == size:
        end += 1
    if end < len(datagrams) and end - start < most and 0 < len(datagrams[end]) < size:
        end += 1  # the kernel allows the last segment to be shorter
    return end


def _send_segmented(sock: socket.socket, run: list[bytes], addr) -> bool:
    """Send the run as one GSO datagram; False when it must go one by one instead."""
    global _enabled
    option = [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("H", len(run[0])))]
    try:
        sock.sendmsg([b"".join(run)], option, 0, addr)
    except (BlockingIOError, InterruptedError):
        return False  # a full buffer: the transport queues them and waits for room
    except OSError as error:
        if error.errno in NO_OFFLOAD:
            _enabled = False
            logger.warning("UDP segmentation offload unavailable (%s); sending one by one",
                           error)  # fmt: skip
        return False  # any other error: the transport's sendto reports it as it would
    return True


def _send_one_by_one(transport, datagrams: list[bytes], addr) -> None:
    for datagram in datagrams:
        transport.sendto(datagram, addr)


def _closing(connection_lost):
    def closing(self, exc) -> None:
        state = _pending.pop(self, None)
        if state is not None and state.sock is not None:
            state.sock.close()  # the duplicate would keep the port bound
        connection_lost(self, exc)

    return closing


if not getattr(aioice_ice.StunProtocol.send_data, _MARK, False):
    setattr(send_data, _MARK, True)
    aioice_ice.StunProtocol.send_data = send_data
    aioice_ice.StunProtocol.connection_lost = _closing(aioice_ice.StunProtocol.connection_lost)
