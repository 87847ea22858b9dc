"""One rendition's CMAF parts and segments, cut where the segment clock says.

Segments start with a keyframe at the segment clock's cuts. Within a segment, a new
part starts at the first video packet at least a part target (less half a frame) after
the previous part's start, by decode time: the same frames in every rendition, so
parts line up across the ladder as segments do. Parts need no keyframe; the first part
of a segment is the independent one. Each part becomes one CMAF fragment (``fmp4``),
published by the rendition's playlist as soon as it is complete; the segment is its
parts concatenated. Timestamps run on across fragments, so players see one continuous
stream.

Packets are written in timestamp order across audio and video, not in arrival order:
an encoded rendition's video leaves x264 up to a second after the audio of the same
moment, and in a copied FLV the audio often trails the video by a few packets. So the
writer queues both and releases whichever is earlier, waiting for the other stream
(at most ``MAX_WAIT_SECONDS``). The effect that matters is at a cut: every audio
packet that starts before the keyframe goes into the old segment, in every rendition
alike, so a player switching renditions at a boundary hears neither a gap nor a repeat.
"""

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

import av

from streaming.transcoder.fmp4 import FragmentMuxer
from streaming.transcoder.rendition_playlist import RenditionPlaylist
from streaming.transcoder.segment_clock import CutSchedule

VIDEO, AUDIO = 0, 1

# When one stream stops arriving (a publisher that stops sending audio), the other is
# held at most this much media time before it goes out alone.
MAX_WAIT_SECONDS = 2.0


def _seconds(timestamp: int, packet: av.Packet) -> float:
    return float(timestamp * packet.time_base)


class SegmentWriter:
    def __init__(
        self,
        playlist: RenditionPlaylist,
        *,
        video_template: av.stream.Stream,
        audio_template: av.stream.Stream | None,
        cuts: CutSchedule,
        frame_duration: float,
        part_seconds: float,
        wall_clock: Callable[[float], float],
        on_segment: Callable,
        on_dropped_packet: Callable[[], None],
    ) -> None:
        self._playlist = playlist
        self._has_audio = audio_template is not None
        self._cuts = cuts
        self._frame_duration = frame_duration
        self._part_length = max(part_seconds - frame_duration / 2, frame_duration / 2)
        self._wall_clock = wall_clock
        self._on_segment = on_segment
        self._fragments = FragmentMuxer(video_template, audio_template, on_dropped_packet)
        playlist.start_run(self._fragments.init_segment)
        self._segment_open = False
        self._segment_start = 0.0
        self._video_end = 0.0
        self._part: list[tuple[int, av.Packet]] = []
        self._part_start = 0.0  # decode time of the part's first video packet
        self._parts_duration = 0.0  # of the parts of this segment already published
        # Queued packets with their times in seconds, computed once: (sort time, packet).
        self._video: deque[tuple[float, av.Packet]] = deque()
        self._audio: deque[tuple[float, av.Packet]] = deque()

    def write_video(self, packet: av.Packet) -> None:
        if not packet.duration:
            packet.duration = round(self._frame_duration / packet.time_base)
        self._video.append((self._video_time(packet), packet))
        self._release()

    def write_audio(self, packet: av.Packet) -> None:
        if self._has_audio:
            self._audio.append((_seconds(packet.pts, packet), packet))
            self._release()

    def close(self) -> None:
        """Publish the last segment; called once, when the input has ended."""
        self._release(final=True)
        self._finish_segment(end=self._video_end)

    def _release(self, final: bool = False) -> None:
        video, audio = self._video, self._audio
        while video or audio:
            if video and audio:
                if audio[0][0] < video[0][0]:
                    self._write_audio(audio.popleft()[1])
                else:
                    self._write_video(video.popleft()[1])
            elif video and (final or not self._has_audio or _waited_enough(video)):
                self._write_video(video.popleft()[1])
            elif audio and (final or _waited_enough(audio)):
                self._write_audio(audio.popleft()[1])
            else:
                return

    def _video_time(self, packet: av.Packet) -> float:
        """Where a video packet sorts among audio: a keyframe that starts a segment by
        its presentation time (audio before it belongs to the old segment), any other
        packet by its decode time, the order the muxer needs."""
        if packet.is_keyframe and self._cuts.is_due(packet.pts):
            return _seconds(packet.pts, packet)
        return _seconds(packet.dts, packet)

    def _write_video(self, packet: av.Packet) -> None:
        start = _seconds(packet.pts, packet)
        decode_time = _seconds(packet.dts, packet)
        if packet.is_keyframe and self._cuts.take_due(packet.pts):
            self._finish_segment(end=start)
            self._segment_open = True
            self._segment_start = self._video_end = start
            self._part_start = decode_time
        if not self._segment_open:
            return  # before the first cut: nothing to attach this packet to
        if self._part and decode_time - self._part_start >= self._part_length:
            self._finish_part(decode_time - self._part_start)
            self._part_start = decode_time
        self._part.append((VIDEO, packet))
        self._video_end = max(self._video_end, start + self._frame_duration)

    def _write_audio(self, packet: av.Packet) -> None:
        if self._segment_open:
            self._part.append((AUDIO, packet))

    def _finish_part(self, duration: float) -> None:
        independent = self._parts_duration == 0.0
        data = self._fragments.fragment(self._part)
        self._part = []
        if not data:
            return  # the muxer refused every packet
        wall_clock = self._wall_clock(self._segment_start)
        self._playlist.publish_part(
            data,
            duration,
            independent=independent,
            program_date_time=datetime.fromtimestamp(wall_clock, UTC).isoformat(
                timespec="milliseconds"
            ),
        )
        self._parts_duration += duration

    def _finish_segment(self, end: float) -> None:
        if not self._segment_open:
            return
        self._segment_open = False
        duration = max(end - self._segment_start, self._frame_duration)
        if self._part:
            last = max(duration - self._parts_duration, self._frame_duration / 2)
            self._finish_part(last)
        self._parts_duration = 0.0
        if self._playlist.has_parts():
            segment, byte_size = self._playlist.publish_segment(duration)
            self._on_segment(segment, byte_size)


def _waited_enough(queue: deque[tuple[float, av.Packet]]) -> bool:
    return queue[-1][0] - queue[0][0] > MAX_WAIT_SECONDS
