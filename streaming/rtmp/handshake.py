"""The server side of the RTMP "simple" handshake (C0/C1 → S0/S1/S2 → C2).

ffmpeg, librtmp (GStreamer's rtmpsink, and OBS) and GStreamer's rtmp2sink all accept a
server that answers with the plain handshake: S1 carries a zero version field, which
tells digest-capable clients not to expect the Flash Player 9 HMAC scheme, and S2 echoes
C1 byte for byte. Only the unencrypted version 3 is accepted (6 would be RTMPE).

This module only builds and checks bytes; the server does the reads with a timeout.
"""

from __future__ import annotations

import os
import struct
import time

from .errors import ProtocolError

RTMP_VERSION = 3
PACKET_SIZE = 1536
# What the server reads before it answers (C0 + C1) and after (C2).
CLIENT_GREETING_SIZE = 1 + PACKET_SIZE
CLIENT_ACK_SIZE = PACKET_SIZE


def server_reply(c0c1: bytes) -> bytes:
    """Check C0+C1 and return S0+S1+S2."""
    if len(c0c1) != CLIENT_GREETING_SIZE:
        raise ProtocolError("handshake: C0+C1 has the wrong size")
    if c0c1[0] != RTMP_VERSION:
        raise ProtocolError(f"handshake: unsupported RTMP version {c0c1[0]}")
    c1 = c0c1[1:]
    uptime_ms = int(time.monotonic() * 1000) & 0xFFFFFFFF
    s1 = struct.pack(">II", uptime_ms, 0) + os.urandom(PACKET_SIZE - 8)
    return bytes([RTMP_VERSION]) + s1 + c1


def check_client_ack(c2: bytes) -> None:
    """C2 should echo S1, but clients differ in what they put there, so only its size counts."""
    if len(c2) != CLIENT_ACK_SIZE:
        raise ProtocolError("handshake: C2 has the wrong size")
