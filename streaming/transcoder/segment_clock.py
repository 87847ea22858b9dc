"""Where segments start, decided once for every rendition.

Players switch renditions at segment boundaries; that is clean only when every
rendition's segment N covers the same time span and starts with a keyframe. So one
``SegmentClock`` decides the cut points from the source's timestamps and every
consumer (the encoders that force a keyframe there, the segment writers that cut
there) gets the same list through its own ``CutSchedule``.

When the source video is copied, a segment can only start at one of the source's
keyframes, so the clock cuts at the first source keyframe at or after the target
length and the encoded renditions follow it. When everything is encoded, the clock
cuts at the first frame at or after the target.
"""

from collections import deque
from fractions import Fraction


class CutSchedule:
    """The pending cut points (source pts) for one consumer."""

    def __init__(self) -> None:
        self._pending: deque[int] = deque()

    def add(self, pts: int) -> None:
        self._pending.append(pts)

    def is_due(self, pts: int) -> bool:
        return bool(self._pending) and self._pending[0] <= pts

    def take_due(self, pts: int) -> bool:
        """True when a cut is due at or before ``pts``; consumes it (and any earlier ones
        that were missed, e.g. when the frame at a cut failed to decode)."""
        due = False
        while self._pending and self._pending[0] <= pts:
            self._pending.popleft()
            due = True
        return due


class SegmentClock:
    def __init__(self, target_seconds: float, time_base: Fraction, frame_rate: float) -> None:
        self._target = round(Fraction(target_seconds) / time_base)
        # Half a frame of slack: a keyframe that lands at 1.983 s because of millisecond
        # rounding in FLV timestamps still ends a 2-second segment.
        self._slack = round(Fraction(1) / Fraction(frame_rate) / 2 / time_base)
        self._last_cut: int | None = None
        self._schedules: list[CutSchedule] = []

    def subscribe(self) -> CutSchedule:
        schedule = CutSchedule()
        self._schedules.append(schedule)
        return schedule

    def offer(self, pts: int, can_cut: bool) -> bool:
        """Called for every source frame in order; True when a segment starts at ``pts``."""
        if not can_cut:
            return False
        if self._last_cut is not None and pts - self._last_cut < self._target - self._slack:
            return False
        self._last_cut = pts
        for schedule in self._schedules:
            schedule.add(pts)
        return True
