"""One rendition's MPEG-TS segment files, cut where the segment clock says.

Each segment is a complete TS file of its own (its own PAT/PMT, starting with a
keyframe), muxed under a temporary name and published by the rendition's playlist
once it is closed. Timestamps run on across files, so players see one continuous
stream.

Packets are written in timestamp order across audio and video, not in arrival order:
an encoded rendition's video leaves x264 up to a second after the audio of the same
moment, and in a copied FLV the audio often trails the video by a few packets. So the
writer queues both and releases whichever is earlier, waiting for the other stream
(at most ``MAX_WAIT_SECONDS``). The effect that matters is at a cut: every audio
packet that starts before the keyframe goes into the old segment, in every rendition
alike, so a player switching renditions at a boundary hears neither a gap nor a repeat.
"""

import os
from collections import deque
from collections.abc import Callable

import av
import av.error

from streaming.transcoder.rendition_playlist import RenditionPlaylist
from streaming.transcoder.segment_clock import CutSchedule

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
        on_segment: Callable,
        on_dropped_packet: Callable[[], None],
    ) -> None:
        self._playlist = playlist
        self._video_template = video_template
        self._audio_template = audio_template
        self._cuts = cuts
        self._frame_duration = frame_duration
        self._on_segment = on_segment
        self._on_dropped_packet = on_dropped_packet
        self._temporary = playlist.directory / f".segment.{os.getpid()}.tmp"
        self._container: av.container.OutputContainer | None = None
        self._video_out = self._audio_out = None
        self._segment_start = 0.0
        self._video_end = 0.0
        # Queued packets with their times in seconds, computed once: (sort time, packet).
        self._video: deque[tuple[float, av.Packet]] = deque()
        self._audio: deque[tuple[float, av.Packet]] = deque()
        self.first_keyframe: bytes | None = None

    def write_video(self, packet: av.Packet) -> None:
        self._video.append((self._video_time(packet), packet))
        self._release()

    def write_audio(self, packet: av.Packet) -> None:
        if self._audio_template is not None:
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
            elif video and (final or self._audio_template is None or _waited_enough(video)):
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
        if packet.is_keyframe and self._cuts.take_due(packet.pts):
            self._finish_segment(end=start)
            self._open_segment(start)
            if self.first_keyframe is None:
                self.first_keyframe = bytes(packet)
        if self._container is None:
            return  # before the first cut: nothing to attach this packet to
        self._mux(packet, self._video_out)
        self._video_end = max(self._video_end, start + self._frame_duration)

    def _write_audio(self, packet: av.Packet) -> None:
        if self._container is not None:
            self._mux(packet, self._audio_out)

    def _mux(self, packet: av.Packet, stream: av.stream.Stream) -> None:
        packet.stream = stream
        try:
            self._container.mux(packet)
        except av.error.FFmpegError:
            # The muxer refuses e.g. a timestamp that goes backwards in damaged input;
            # losing that packet is better than losing the stream.
            self._on_dropped_packet()

    def _open_segment(self, start: float) -> None:
        self._container = av.open(str(self._temporary), "w", format="mpegts")
        self._video_out = self._container.add_stream_from_template(self._video_template)
        self._audio_out = None
        if self._audio_template is not None:
            self._audio_out = self._container.add_stream_from_template(self._audio_template)
        self._segment_start = start
        self._video_end = start

    def _finish_segment(self, end: float) -> None:
        if self._container is None:
            return
        self._container.close()
        self._container = None
        if not self._temporary.exists():
            return  # not one packet made it into the file
        duration = max(end - self._segment_start, self._frame_duration)
        segment, byte_size = self._playlist.publish_segment(self._temporary, duration)
        self._on_segment(segment, byte_size)


def _waited_enough(queue: deque[tuple[float, av.Packet]]) -> bool:
    return queue[-1][0] - queue[0][0] > MAX_WAIT_SECONDS
