"""The real-time rendition's packets, written to the ingest's pipe (``--realtime-fd``).

A room live from RTMP whose H.264 cannot go to WebRTC viewers as it is (B-frames, or a
profile browsers may not decode; see streaming/webrtc/flv_source.py) is watched in
real time in the top rung of the ladder, which the transcoder then encodes without
B-frames. Its packets go to the ingest as they leave the encoder, one record each:

    flags (1 byte, bit 0: keyframe) | length (4 bytes) | pts in 90 kHz (8 bytes) | data

``data`` is an Annex B access unit; a keyframe carries the SPS and PPS in front, so a
viewer can start decoding at any keyframe. Writes block: the ingest reads the pipe on
its event loop at once, and a pipe it stopped reading (it died) is given up.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import struct

import av

logger = logging.getLogger(__name__)

RECORD_HEADER = struct.Struct(">BIQ")
KEYFRAME_FLAG = 0x01
VIDEO_CLOCK = 90_000
START_CODE = b"\x00\x00\x00\x01"
PIPE_BYTES = 1 << 20  # room for a few keyframes while the ingest is busy


def parameter_sets_annex_b(extradata: bytes | None) -> bytes:
    """The encoder's SPS and PPS as Annex B, whether it gave them as avcC or Annex B."""
    if not extradata:
        return b""
    if extradata[0] != 1:
        return extradata
    from streaming.webrtc.flv_source import AvcConfig

    return AvcConfig(extradata).annex_b


class RealtimeOutput:
    def __init__(self, fd: int, extradata: bytes | None) -> None:
        self._fd = fd
        self._parameter_sets = parameter_sets_annex_b(extradata)
        self._open = True
        # A smaller pipe (the call refused) only means the ingest must read sooner.
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)

    def write(self, packet: av.Packet) -> None:
        if not self._open or packet.pts is None:
            return
        data = bytes(packet)
        if packet.is_keyframe:
            data = self._parameter_sets + data
        pts = round(packet.pts * packet.time_base * VIDEO_CLOCK)
        flags = KEYFRAME_FLAG if packet.is_keyframe else 0
        try:
            os.write(self._fd, RECORD_HEADER.pack(flags, len(data), pts) + data)
        except OSError as error:
            logger.warning("real-time output closed: %s", error)
            self._open = False


def read_record_header(header: bytes) -> tuple[bool, int, int]:
    """(keyframe, length, pts) of a record header."""
    flags, length, pts = RECORD_HEADER.unpack(header)
    return bool(flags & KEYFRAME_FLAG), length, pts
