"""One transcoder run: read the FLV, feed every rendition, publish, report.

Everything happens on one thread. The heavy work already runs on other cores inside
C libraries that release the GIL (the H.264 decoder's frame threads, swscale's slice
threads, libx264's frame and lookahead threads), and measurement showed the same CPU
per input second as the ffmpeg CLI doing the same work (``bench/bench_transcoder.py``),
so more Python threads would only add locking.
"""

import logging
import time
from typing import BinaryIO

import av
import av.error

from streaming.transcoder.audio_encoding import AacAudioEncoder
from streaming.transcoder.codec_strings import aac_codec_string, h264_codec_string
from streaming.transcoder.events import (
    EventStream,
    ended_event,
    health_event,
    segment_event,
    started_event,
)
from streaming.transcoder.health import HealthMonitor
from streaming.transcoder.input_source import (
    PacketReader,
    SourceInfo,
    UnusableInput,
    describe_source,
    open_live_input,
)
from streaming.transcoder.ladder import AUDIO_BITRATE, Rendition, plan_renditions
from streaming.transcoder.master_playlist import MasterPlaylistWriter
from streaming.transcoder.options import TranscodeOptions
from streaming.transcoder.realtime_output import RealtimeOutput
from streaming.transcoder.rendition_playlist import RenditionPlaylist
from streaming.transcoder.segment_clock import SegmentClock
from streaming.transcoder.segment_writer import SegmentWriter
from streaming.transcoder.thumbnail import ThumbnailWriter
from streaming.transcoder.timeline import OUTPUT_START, Timeline
from streaming.transcoder.video_encoding import AUTOMATIC_THREADS, RenditionVideoEncoder

logger = logging.getLogger(__name__)

EXIT_ENDED = 0
EXIT_FAILED = 1
EXIT_UNUSABLE_INPUT = 2
# Only if an SPS cannot be found, which libx264 and FLV never cause: High@4.0.
FALLBACK_VIDEO_CODEC = "avc1.640028"


def run_transcoder(options: TranscodeOptions, input_file: BinaryIO, events: EventStream) -> int:
    try:
        container = open_live_input(input_file, options.input_format)
        source = describe_source(container)
    except UnusableInput as error:
        events.emit(ended_event(error.reason, detail=str(error)))
        return EXIT_UNUSABLE_INPUT
    transcoder = None
    try:
        transcoder = StreamTranscoder(options, source, events)
        streams = [stream for stream in (source.video, source.audio) if stream is not None]
        reader = PacketReader(container, streams, transcoder.health)
        transcoder.consume(reader.packets())
        transcoder.finish()
    except Exception as error:
        # A bug, not bad input (PacketReader absorbs that): say so and exit non-zero,
        # so the supervisor restarts the stream instead of waiting for segments.
        logger.exception("transcoder failed")
        segments = transcoder.segments_published if transcoder is not None else 0
        detail = f"{type(error).__name__}: {error}"
        events.emit(ended_event("error", detail=detail, segments=segments))
        return EXIT_FAILED
    events.emit(
        ended_event(
            reader.end_reason, detail=reader.end_detail, segments=transcoder.segments_published
        )
    )
    return EXIT_ENDED


class StreamTranscoder:
    def __init__(self, options: TranscodeOptions, source: SourceInfo, events: EventStream):
        self._options = options
        self._source = source
        self._events = events
        self.segments_published = 0
        options.output.mkdir(parents=True, exist_ok=True)
        self.renditions = plan_renditions(
            source.width,
            source.height,
            float(source.frame_rate),
            options.ladder_heights,
            source.copy_video,
        )
        self.health = HealthMonitor(
            width=source.width,
            height=source.height,
            video_codec=source.video_codec,
            audio_codec=source.audio_codec,
        )
        self._timeline = Timeline()
        # Wall-clock time of OUTPUT_START, set when the first keyframe arrives, for
        # EXT-X-PROGRAM-DATE-TIME.
        self._wall_clock_origin: float | None = None
        self._reports: dict[str, tuple[int, int | None]] = {}
        self._clock = SegmentClock(
            options.segment_seconds, source.video.time_base, float(source.frame_rate)
        )
        self._thumbnail = ThumbnailWriter(options.output, source.video, options.thumbnail_every)
        self._audio_encoder = None
        if source.audio is not None and not source.copy_audio:
            self._audio_encoder = AacAudioEncoder(source.audio)
        self._decoder = self._open_decoder()
        self._encoders: list[tuple[RenditionVideoEncoder, SegmentWriter]] = []
        self._writers: dict[str, SegmentWriter] = {}
        self._copy_writer: SegmentWriter | None = None
        self._playlists: list[RenditionPlaylist] = []
        self._build_renditions()
        self._realtime = self._realtime_output()
        self._master = MasterPlaylistWriter(
            options.output,
            self.renditions,
            frame_rate=float(source.frame_rate),
            audio_bitrate=AUDIO_BITRATE if source.audio is not None else None,
        )
        events.emit(
            started_event(
                output=options.output,
                source=source,
                renditions=self.renditions,
                discontinuity=options.discontinuity or options.continue_after is not None,
            )
        )

    def consume(self, packets) -> None:
        video_index = self._source.video.index
        for packet in packets:
            if packet.stream_index == video_index:
                self._on_video_packet(packet)
            else:
                self._on_audio_packet(packet)
            if self.health.due(self._options.health_every):
                self._events.emit(health_event(self.health.report()))

    def finish(self) -> None:
        """The input ended: drain decoder and encoders, publish the last segments."""
        if self._decoder is not None:
            self._encode_frames(self._decode(None))
        for encoder, writer in self._encoders:
            for packet in encoder.flush():
                writer.write_video(packet)
        if self._audio_encoder is not None:
            self._send_audio(self._encode_audio(None))
        for writer in self._writers.values():
            writer.close()
        for playlist in self._playlists:
            playlist.finish()
        self._events.emit(health_event(self.health.report()))

    def _open_decoder(self):
        """The source decoder, needed only when some rendition is encoded."""
        if self._source.copy_video and not self._has_ladder():
            return None
        decoder = self._source.video.codec_context
        decoder.thread_type = "AUTO"
        decoder.thread_count = AUTOMATIC_THREADS
        return decoder

    def _has_ladder(self) -> bool:
        return any(not rendition.copy_video for rendition in self.renditions)

    def _build_renditions(self) -> None:
        source = self._source
        audio_template = source.audio if source.copy_audio else None
        if self._audio_encoder is not None:
            audio_template = self._audio_encoder.stream
        for rendition in self.renditions:
            playlist = RenditionPlaylist(
                self._options.output / rendition.directory_name,
                window=self._options.window,
                keep_recording=self._options.keep_recording,
                segment_seconds=self._options.segment_seconds,
                max_recording_seconds=self._options.max_recording_seconds,
                part_target=self._part_target(),
                reports=self._reports,
            )
            if self._options.discontinuity:
                playlist.continue_existing()
            elif self._options.continue_after is not None:
                playlist.continue_after(*self._options.continue_after)
            self._playlists.append(playlist)
            encoder = None
            video_template = source.video
            if not rendition.copy_video:
                encoder = RenditionVideoEncoder(
                    rendition,
                    time_base=source.video.time_base,
                    frame_rate=source.frame_rate,
                    segment_seconds=self._options.segment_seconds,
                    preset=self._options.preset,
                    cuts=self._clock.subscribe(),
                    # WebRTC receivers play frames in decode order: the rung the
                    # real-time viewers get (the first encoded one) has no B-frames.
                    b_frames=not (self._options.realtime_fd is not None and not self._encoders),
                )
                video_template = encoder.stream
            writer = SegmentWriter(
                playlist,
                video_template=video_template,
                audio_template=audio_template,
                cuts=self._clock.subscribe(),
                frame_duration=float(1 / source.frame_rate),
                part_seconds=self._options.part_seconds,
                wall_clock=self._wall_clock,
                on_segment=self._segment_listener(rendition),
                on_dropped_packet=self.health.record_dropped_packet,
            )
            self._writers[rendition.name] = writer
            if encoder is None:
                self._copy_writer = writer
            else:
                self._encoders.append((encoder, writer))

    def _realtime_output(self) -> RealtimeOutput | None:
        """The top rung, encoded without B-frames, for the ingest's real-time viewers."""
        if self._options.realtime_fd is None or not self._encoders:
            return None
        encoder = self._encoders[0][0]
        return RealtimeOutput(self._options.realtime_fd, encoder.stream.codec_context.extradata)

    def _part_target(self) -> float:
        """PART-TARGET: parts are cut at the first frame at least half a frame short of
        the target, so none is longer than the target plus half a frame."""
        half_frame = float(1 / self._source.frame_rate) / 2
        return round(self._options.part_seconds + half_frame, 3)

    def _wall_clock(self, output_seconds: float) -> float:
        origin = self._wall_clock_origin if self._wall_clock_origin is not None else time.time()
        return origin + output_seconds - float(OUTPUT_START)

    def _segment_listener(self, rendition: Rendition):
        def on_segment(segment, byte_size: int) -> None:
            codecs = self._codecs_for(rendition)
            self._master.record_segment(rendition, segment.duration, byte_size, codecs)
            self.segments_published += 1
            self._events.emit(segment_event(rendition.name, segment, byte_size))

        return on_segment

    def _codecs_for(self, rendition: Rendition) -> tuple[str, ...]:
        if rendition.copy_video:
            video = h264_codec_string(self._source.video.codec_context.extradata, None)
        else:
            encoder = next(e for e, w in self._encoders if w is self._writers[rendition.name])
            video = h264_codec_string(encoder.stream.codec_context.extradata, None)
        if video is None:
            logger.warning("no SPS in %s; declaring %s", rendition.name, FALLBACK_VIDEO_CODEC)
            video = FALLBACK_VIDEO_CODEC
        if self._source.audio is None:
            return (video,)
        profile = self._source.audio.codec_context.profile if self._source.copy_audio else None
        return (video, aac_codec_string(profile))

    def _on_video_packet(self, packet: av.Packet) -> None:
        if not self._timeline.started:
            if not packet.is_keyframe:
                return  # nothing before the first keyframe can be decoded
            self._timeline.start_at(packet)
            self._wall_clock_origin = time.time()
        if not self._timeline.place(packet):
            self.health.record_dropped_packet()
            return
        seconds = _stream_seconds(packet)
        self.health.record_packet(packet.size, seconds, video=True, keyframe=packet.is_keyframe)
        if packet.is_keyframe:
            self._thumbnail.offer(packet, seconds)
        frames = self._decode(packet) if self._decoder is not None else []
        if self._copy_writer is not None:
            self._clock.offer(packet.pts, packet.is_keyframe)
            self._copy_writer.write_video(packet)
        self._encode_frames(frames)

    def _on_audio_packet(self, packet: av.Packet) -> None:
        if not self._timeline.place(packet):
            if self._timeline.started:
                self.health.record_dropped_packet()
            return
        self.health.record_packet(packet.size, _stream_seconds(packet), video=False, keyframe=False)
        if self._audio_encoder is None:
            self._send_audio([packet])
        else:
            self._send_audio(self._encode_audio(packet))

    def _decode(self, packet: av.Packet | None) -> list[av.VideoFrame]:
        try:
            return self._decoder.decode(packet)
        except av.error.FFmpegError:
            self.health.record_decode_error()
            return []

    def _encode_frames(self, frames: list[av.VideoFrame]) -> None:
        for frame in frames:
            if frame.pts is None:
                self.health.record_decode_error()
                continue
            if frame.is_corrupt:
                self.health.record_corrupt_frame()
            if self._copy_writer is None:
                self._clock.offer(frame.pts, True)
            for encoder, writer in self._encoders:
                for packet in encoder.encode(frame):
                    writer.write_video(packet)
                    if self._realtime is not None and encoder is self._encoders[0][0]:
                        self._realtime.write(packet)

    def _encode_audio(self, packet: av.Packet | None) -> list[av.Packet]:
        try:
            return self._audio_encoder.encode(packet)
        except av.error.FFmpegError:
            self.health.record_decode_error()
            return []

    def _send_audio(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            for writer in self._writers.values():
                writer.write_audio(packet)


def _stream_seconds(packet: av.Packet) -> float:
    """Seconds since the stream's first keyframe."""
    return float(packet.pts * packet.time_base - OUTPUT_START)
