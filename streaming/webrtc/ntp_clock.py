"""aiortc's wall clock read from `time.time()` instead of through `datetime`.

aiortc stamps every RTP packet it sends with `abs-send-time`, and remembers the send time
for its sender reports, by calling `clock.current_ntp_time()` twice a packet; its DTLS
transport stamps every received packet with `clock.current_ms()`. Both build a timezone-
aware `datetime` and subtract another from it, which a profile of a process serving 40
real-time viewers put at about 6% of its CPU (docs/benchmarks.md, issue 15). Here they are
the same values computed from `time.time()`. aiortc reads them through the module
(`clock.current_ntp_time()`), so replacing the module's names reaches every caller; aiortc
has no hook for its clock, hence the replacement, in the way of encoded_frames.py.
"""

from __future__ import annotations

import time

from aiortc import clock

# Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_TO_UNIX = 2_208_988_800


def current_ntp_time() -> int:
    """Now as a 64-bit NTP timestamp: seconds since 1900 in 32.32 fixed point."""
    now = time.time() + NTP_TO_UNIX
    seconds = int(now)
    return (seconds << 32) | int((now - seconds) * (1 << 32))


def current_ms() -> int:
    """Milliseconds since the NTP epoch, as aiortc's `clock.current_ms`."""
    return int((time.time() + NTP_TO_UNIX) * 1000)


clock.current_ntp_time = current_ntp_time
clock.current_ms = current_ms
