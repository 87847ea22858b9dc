"""Forwarded frames sent to every real-time viewer straight from the room's relay.

aiortc runs a task per sender: it takes a frame from the track's queue, then builds an
`RtpPacket` per payload, serializes it, and sends it through four nested coroutines
(DTLS transport, ICE transport, ICE connection, ICE protocol), every one of them a Python
call and an `await` per packet. A profile of a process serving WHEP viewers had the
sender loop and the packets' serialization at about a fifth of its samples on their own,
beside SRTP and the system calls (docs/benchmarks.md, issue 15), and the tasks' hand-offs
made the last viewer of a keyframe wait for every other viewer's turn on the event loop.

So for a track that forwards encoded frames (relay.py's `ForwardedTrack`) we replace the
sender's loop (aiortc has no hook for it; encoded_frames.py wraps aiortc the same way):
its task only waits for the end, and the relay calls `DirectSender.send` for each frame,
which does the same work in one plain call per viewer: the codec's `pack` (H.264's and
Opus's payloads are cut once per room, shared_packing.py; VP8's stay per viewer), one
RTP header per frame (aiortc serializes it, header extensions and all) copied for each
payload with its sequence number and marker, SRTP, and the frame's datagrams handed to
the socket in one go (udp_batching.py). What aiortc's loop keeps for the rest of the
sender is kept too:
- the packets, for retransmission on a NACK (RTX): stored as bytes, and parsed back
  into an `RtpPacket` only for the rare packet a viewer asks for again;
- the counts and timestamps its RTCP sender reports and its stats read;
- the DTLS transport's byte and packet counts;
- a viewer whose transport is gone ends its sender, as aiortc's loop does on
  `ConnectionError`;
- a viewer reached through a TURN relay, whose transport has no socket or buffer of its
  own, is sent to datagram by datagram.
One thing is added: a viewer's PLI or FIR (its picture is lost) asks the room's publisher
for a keyframe (relay.py), where aiortc's loop, which has no encoder to ask for a
forwarded track, ignored it. The frames offered while the viewer connected are sent
first, from the newest keyframe among them (relay.py).
Any other track, and any sender a test or a future caller builds for one, runs aiortc's
own loop unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable

from aiortc import clock, rtcrtpsender
from aiortc.codecs import get_encoder
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket

from streaming.webrtc import udp_batching

logger = logging.getLogger("livesite.webrtc")

_FIRST_BYTES = struct.Struct("!BBH")
_MARK = "_livesite_direct"
# A viewer whose socket has this much waiting for the kernel is not keeping up: it skips
# frames until the next keyframe (relay.py) rather than growing a backlog.
MAX_BACKLOG_BYTES = 1 << 20


def timestamp_origin() -> int:
    """Where a viewer's RTP timestamps start: random, as aiortc's own senders do."""
    return rtcrtpsender.random32()


class PacketHistory(dict):
    """The sender's last packets, by sequence number modulo aiortc's history size, as
    serialized bytes; `get` (what aiortc's retransmission calls) parses one back."""

    __slots__ = ("extensions_map",)

    def __init__(self, extensions_map) -> None:
        super().__init__()
        self.extensions_map = extensions_map

    def get(self, key, default=None):
        data = dict.get(self, key)
        if data is None:
            return default
        return RtpPacket.parse(data, self.extensions_map)


class DirectSender:
    """One viewer's sender of one forwarded track, driven by the room's relay."""

    __slots__ = (
        "_dtls",
        "_encoder",
        "_extensions_map",
        "_history",
        "_mid",
        "_origin",
        "_payload_type",
        "_sender",
        "_sequence",
        "ended",
        "keyframe_wanted",
    )

    def __init__(self, sender, codec) -> None:
        self._sender = sender
        self._encoder = get_encoder(codec)
        self._payload_type = codec.payloadType
        self._sequence = rtcrtpsender.random_sequence_number()
        self._origin = timestamp_origin()
        self._extensions_map = sender._RTCRtpSender__rtp_header_extensions_map
        self._history = PacketHistory(self._extensions_map)
        sender._RTCRtpSender__rtp_history = self._history  # what retransmission reads
        self._mid = sender._RTCRtpSender__mid
        self._dtls = sender.transport
        self.ended: asyncio.Future = asyncio.get_running_loop().create_future()
        # aiortc answers a viewer's PLI or FIR by asking its encoder for a keyframe; a
        # forwarded track has none, so the request goes where the track says (its
        # relay's `keyframe_wanted`: the room's publisher).
        self.keyframe_wanted: Callable[[], None] = lambda: None
        sender._send_keyframe = lambda: self.keyframe_wanted()

    def send(self, packet) -> bool | None:
        """Send one encoded frame: True when sent, False when this viewer's socket is too
        far behind to take it (the frame is dropped), None when it is not sent for any
        other reason (the sender disabled or ended). A viewer whose connection is gone
        ends."""
        if self.ended.done() or not self._sender._enabled:
            return None
        try:
            return self._send(packet)
        except ConnectionError:
            self.end()
        except Exception:
            logger.warning("a real-time viewer's frame could not be sent", exc_info=True)
            self.end()
        return None

    def end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)

    def _send(self, packet) -> bool | None:
        dtls = self._dtls
        if dtls._state != DtlsState.CONNECTED:
            raise ConnectionError("Cannot send encrypted RTP, not connected")
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            raise ConnectionError("Cannot send data, not connected")
        transport = pair.protocol.transport
        if transport is None:
            raise ConnectionError("Cannot send data, not connected")
        # A TURN allocation's transport (aioice's TurnTransport) has no buffer of its own.
        backlog = getattr(transport, "get_write_buffer_size", None)
        if backlog is not None and backlog() > MAX_BACKLOG_BYTES:
            return False
        payloads, timestamp = self._encoder.pack(packet)
        if not payloads:
            return None
        timestamp = (self._origin + timestamp) & 0xFFFFFFFF
        head = RtpPacket(payload_type=self._payload_type, timestamp=timestamp)
        head.ssrc = self._sender._ssrc
        now = clock.current_ntp_time()
        head.extensions.abs_send_time = (now >> 14) & 0x00FFFFFF
        head.extensions.mid = self._mid
        header = head.serialize(self._extensions_map)
        first, rest = header[0], header[4:]
        protect = dtls._tx_srtp.protect
        history = self._history
        pack_first = _FIRST_BYTES.pack
        sequence = self._sequence
        last = len(payloads) - 1
        datagrams = []
        octets = sent = 0
        for i, payload in enumerate(payloads):
            plain = pack_first(first, self._payload_type | (0x80 if i == last else 0),
                               sequence) + rest + payload  # fmt: skip
            history[sequence % RTP_HISTORY_SIZE] = plain
            datagram = protect(plain)
            datagrams.append(datagram)
            octets += len(payload)
            sent += len(datagram)
            sequence = (sequence + 1) & 0xFFFF
        self._sequence = sequence
        udp_batching.send_now(pair.protocol, datagrams, pair.remote_addr)
        sender = self._sender
        sender._RTCRtpSender__ntp_timestamp = now
        sender._RTCRtpSender__rtp_timestamp = timestamp
        sender._RTCRtpSender__octet_count += octets
        sender._RTCRtpSender__packet_count += len(datagrams)
        dtls._RTCDtlsTransport__tx_bytes += sent
        dtls._RTCDtlsTransport__tx_packets += len(datagrams)
        return True


_aiortc_run_rtp = rtcrtpsender.RTCRtpSender._run_rtp


async def _run_rtp(self, codec) -> None:
    track = self._RTCRtpSender__track
    attach = getattr(track, "attach_direct_sender", None)
    if attach is None:
        return await _aiortc_run_rtp(self, codec)
    self._RTCRtpSender__rtp_started.set()
    direct = None
    try:
        if track.readyState != "live":
            return  # stopped before the connection was up: nothing will come
        direct = DirectSender(self, codec)
        attach(direct)
        await direct.ended
    except asyncio.CancelledError:
        pass  # stop() cancels the loop, as it does aiortc's
    except Exception:
        logger.warning("a real-time viewer's sender failed", exc_info=True)
    finally:
        if direct is not None:
            direct.end()
        track.stop()
        self._RTCRtpSender__track = None
        self._RTCRtpSender__rtp_exited.set()


if not getattr(rtcrtpsender.RTCRtpSender._run_rtp, _MARK, False):
    setattr(_run_rtp, _MARK, True)
    rtcrtpsender.RTCRtpSender._run_rtp = _run_rtp
