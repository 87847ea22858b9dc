"""One output clock for every packet, and a guard against impossible timestamps.

Timestamps are moved so that the first video keyframe sits at ``OUTPUT_START``. Every
run of the transcoder starts its timeline there (a continuing run is announced to
players with EXT-X-DISCONTINUITY, which is what that tag is for). The start is one
second rather than zero because a stream's earliest decode timestamps come before its
first presentation timestamp (B-frames, AAC priming), and a fragment's base decode
time (``tfdt``) cannot be negative; libavformat would shift each part's muxer on its
own (see ``fmp4``), and the parts would no longer line up.

A flipped byte in an FLV tag header can turn a timestamp into garbage. One packet
with a timestamp an hour ahead would make every later packet look like it goes
backwards, and muxers reject those; so a packet whose decode timestamp does not
advance, or jumps further than ``MAX_JUMP_SECONDS``, is dropped. If the input clock
really did jump (a publisher that restarts its clock), the next ``REANCHOR_AFTER``
packets of that stream agree with each other, and the stream continues from where it
was instead.
"""

from dataclasses import dataclass
from fractions import Fraction

import av

OUTPUT_START = Fraction(1)
MAX_JUMP_SECONDS = 10
REANCHOR_AFTER = 30


@dataclass
class _StreamClock:
    offset: int  # added to input timestamps, in the stream's time base
    max_jump: int
    last_dts: int | None = None  # output time base
    rejected_in_a_row: int = 0
    last_rejected_input_dts: int | None = None


class Timeline:
    def __init__(self) -> None:
        self._origin: Fraction | None = None
        self._clocks: dict[int, _StreamClock] = {}

    @property
    def started(self) -> bool:
        return self._origin is not None

    def start_at(self, keyframe: av.Packet) -> None:
        self._origin = keyframe.dts * keyframe.time_base

    def place(self, packet: av.Packet) -> bool:
        """Move ``packet`` onto the output clock in place. False when it must be dropped:
        before the start, or with a timestamp that cannot be right."""
        if self._origin is None or packet.dts is None or packet.pts is None:
            return False
        clock = self._clock_for(packet)
        dts = packet.dts + clock.offset
        if dts < 0:
            return False
        if clock.last_dts is not None and not 0 < dts - clock.last_dts <= clock.max_jump:
            if not self._reanchored(clock, packet):
                return False
            dts = packet.dts + clock.offset
        clock.last_dts = dts
        clock.rejected_in_a_row = 0
        packet.pts += clock.offset
        packet.dts = dts
        return True

    def _clock_for(self, packet: av.Packet) -> _StreamClock:
        clock = self._clocks.get(packet.stream_index)
        if clock is None:
            time_base = packet.time_base
            clock = _StreamClock(
                offset=round((OUTPUT_START - self._origin) / time_base),
                max_jump=round(MAX_JUMP_SECONDS / time_base),
            )
            self._clocks[packet.stream_index] = clock
        return clock

    def _reanchored(self, clock: _StreamClock, packet: av.Packet) -> bool:
        previous = clock.last_rejected_input_dts
        agrees = previous is not None and 0 < packet.dts - previous <= clock.max_jump
        clock.rejected_in_a_row = clock.rejected_in_a_row + 1 if agrees else 1
        clock.last_rejected_input_dts = packet.dts
        if clock.rejected_in_a_row < REANCHOR_AFTER:
            return False
        step = max(1, packet.dts - previous)
        clock.offset = clock.last_dts + step - packet.dts
        return True
