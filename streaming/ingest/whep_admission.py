"""How many real-time (WHEP) viewers an ingest takes, and how fast they may join.

Every join costs the ingest's event loop an ICE gathering, a DTLS handshake and a
certificate, and every viewer costs RTP packetizing and SRTP for each frame, all in
Python on the loop that also renews the rooms' live locks and feeds the transcoders.
A burst of a hundred joins at once stalled that loop long enough for a live lock to
expire. So an ingest admits at most `max_viewers` viewers (joining or watching) and
`joins_per_second` new ones, with a burst of one second's worth; a viewer over either
limit is refused with 503 and a Retry-After, and the room page stays on (or goes back
to) HLS, which scales through the CDN instead.

A token bucket, written out because it is a dozen lines; the site's own rate limiter
(livesite.ratelimit) counts per client address in the cache, not per process.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


class ViewerRefused(Exception):
    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class WhepLimits:
    max_viewers: int = 150
    joins_per_second: float = 10.0

    @classmethod
    def from_django(cls) -> WhepLimits:
        from streaming import conf

        return cls(
            max_viewers=conf.whep_max_viewers_per_ingest(),
            joins_per_second=conf.whep_joins_per_second(),
        )


# A full ingest: viewers leave at their own pace; come back to HLS for a while.
FULL_RETRY_SECONDS = 30


class WhepAdmission:
    def __init__(self, limits: WhepLimits, clock=time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._burst = max(1.0, limits.joins_per_second)
        self._tokens = self._burst
        self._filled_at = clock()

    def admit(self, viewers: int) -> None:
        """Take one join for a new viewer, `viewers` being those joining or watching
        now; raises `ViewerRefused` over either limit."""
        if viewers >= self.limits.max_viewers:
            raise ViewerRefused(
                f"this server has its most real-time viewers ({self.limits.max_viewers})",
                FULL_RETRY_SECONDS,
            )
        now = self._clock()
        rate = self.limits.joins_per_second
        self._tokens = min(self._burst, self._tokens + (now - self._filled_at) * rate)
        self._filled_at = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / rate if rate > 0 else FULL_RETRY_SECONDS
            raise ViewerRefused("too many real-time viewers are joining", math.ceil(wait))
        self._tokens -= 1
