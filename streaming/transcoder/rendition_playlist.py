"""One rendition's playlists and segment files on disk, across reconnects.

Layout of rendition R in the output directory::

    R/init_<sequence>.mp4  the CMAF init segment of the run whose first segment
                         has that number (a reconnect may change the parameters)
    R/part_<sequence>_<n>.m4s  part n of a segment, published as it completes
                         (about a third of a second) and deleted a few segments later
    R/seg_<sequence>.m4s segments (their parts, concatenated), numbered without gaps,
                         also across reconnects
    R/index.m3u8         the live playlist: the last --window segments, the parts of
                         the last few and of the one being written, a preload hint for
                         the next part and reports of the other renditions; rewritten
                         after every part; its EXT-X-MEDIA-SEQUENCE advances as the
                         window slides
    R/vod.m3u8           with --keep-recording: every segment of every run, written
                         when the input ends, with PLAYLIST-TYPE:VOD and ENDLIST
    R/recording.log      with --keep-recording: one line per published segment
                         ("<sequence> <duration> <discontinuity 0|1> <init>"), appended as it
                         is published, so a transcoder that is killed loses nothing of
                         the recording (not served: the origin knows no ``.log``)

The recording is a separate file rather than the live playlist turned into a VOD, so
that viewers of the live stream keep polling an unchanged live playlist while a
replay already exists, and so a reconnect can continue both.

The transcoder never ends the live playlist itself: when the input ends, the
broadcaster may reconnect within the grace period, and a playlist with ENDLIST would
stop every viewer. The supervisor calls ``end_live_playlists`` once the stream is over.

Continuing after a reconnect (``--discontinuity``): the new transcoder reads
``index.m3u8`` (and ``recording.log``), numbers its segments after the last one, and
tags its first segment with EXT-X-DISCONTINUITY; when that segment leaves the window,
EXT-X-DISCONTINUITY-SEQUENCE goes up by one, as RFC 8216 6.2.1 requires. The recording
continues from the log, so it is complete even when the previous run was killed before
it could write ``vod.m3u8``.

Continuing another machine's run (``--continue-after SEQUENCE:DISCONTINUITIES``, when the
ingest that was publishing the stream died): the folder here is empty, so the numbers
come from the command line (the room's entry in ``streaming/hls_nodes.py``): segments
are numbered after SEQUENCE, the first tagged EXT-X-DISCONTINUITY, and the playlist
starts with EXT-X-DISCONTINUITY-SEQUENCE DISCONTINUITIES. The recording on this machine
holds only this machine's segments.

Segments that leave the live window stay on disk for another window's worth of
segments: a player that fetched the playlist just before it slid may still ask.

With ``--max-recording-seconds`` the recording keeps only about the last that many
seconds (a stream that never ends must not fill the disk): once it is a tenth longer, the
oldest segments are dropped from it and deleted, and ``recording.log`` is rewritten (so
the rewrite happens about once per tenth of the limit, not per segment).
"""

import math
import re
from collections import deque
from dataclasses import replace
from pathlib import Path

from streaming.transcoder.atomic_files import write_atomically
from streaming.transcoder.playlist import (
    MediaPlaylist,
    MediaSegment,
    Part,
    RenditionReport,
    parse_media_playlist,
    render_media_playlist,
    rounded_duration,
)

LIVE_PLAYLIST = "index.m3u8"
VOD_PLAYLIST = "vod.m3u8"
RECORDING_LOG = "recording.log"
RECORDING_SLACK = 1.1  # trim the recording when it is this much longer than its limit
SEGMENT_NAME = re.compile(r"^seg_(\d+)\.m4s$")
PART_NAME = re.compile(r"^part_(\d+)_\d+\.m4s$")
INIT_NAME = re.compile(r"^init_\d+\.mp4$")
# Parts are listed for this many complete segments before the one being written
# (RFC 8216bis asks for at least the last three target durations' worth)...
SEGMENTS_WITH_PARTS = 3
# ...and their files live this many segments longer, for players that just read them.
PART_FILES_KEPT = SEGMENTS_WITH_PARTS + 2


def segment_name(sequence: int) -> str:
    return f"seg_{sequence}.m4s"


def part_name(sequence: int, index: int) -> str:
    return f"part_{sequence}_{index}.m4s"


class RenditionPlaylist:
    def __init__(
        self,
        directory: Path,
        *,
        window: int,
        keep_recording: bool,
        segment_seconds: float,
        max_recording_seconds: float = 0.0,
        part_target: float | None = None,
        reports: dict[str, tuple[int, int | None]] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._part_target = part_target
        # Every rendition's last (sequence, part), shared by the renditions of one run,
        # for EXT-X-RENDITION-REPORT.
        self._reports = reports if reports is not None else {}
        self._init: str | None = None
        self._parts: list[Part] = []
        self._part_data: list[bytes] = []
        self._program_date_time: str | None = None
        self._window = window
        self._keep_recording = keep_recording
        self._max_recording = max_recording_seconds
        self._target_duration = max(1, math.ceil(segment_seconds))
        self._live: deque[MediaSegment] = deque()
        self._discontinuity_sequence = 0
        self._recording: list[MediaSegment] = []
        self._recording_discontinuity_sequence = 0
        self._expired: deque[MediaSegment] = deque()
        self._next_sequence = 0
        self._next_is_discontinuity = False

    def continue_after(self, last_sequence: int, discontinuities: int) -> None:
        """Continue a stream whose previous segments are on another machine (its ingest
        died, docs/scaling.md): number segments after `last_sequence` and tag the first
        with EXT-X-DISCONTINUITY. `discontinuities` is the discontinuity sequence number
        of that last segment, so this playlist starts with it as
        EXT-X-DISCONTINUITY-SEQUENCE and the first segment here counts one more, as the
        players that read the other machine's playlist count (RFC 8216 6.2.1)."""
        self._next_sequence = last_sequence + 1
        self._discontinuity_sequence = discontinuities
        self._recording_discontinuity_sequence = discontinuities
        self._next_is_discontinuity = True

    def continue_existing(self) -> bool:
        """Pick up where a previous transcoder of this stream stopped; False when there is
        nothing to continue."""
        live = self._read(LIVE_PLAYLIST)
        if live is None or not (live.segments or live.pending_parts):
            return False
        self._live = deque(replace(segment, parts=()) for segment in live.segments)
        self._discontinuity_sequence = live.discontinuity_sequence
        self._target_duration = max(self._target_duration, live.target_duration)
        # A segment the previous run had only published parts of is never listed: its
        # number goes to this run's first segment, so its parts must go.
        self._next_sequence = (
            live.segments[-1].sequence + 1 if live.segments else live.media_sequence
        )
        self._next_is_discontinuity = True
        self._delete_parts_from(self._next_sequence)
        if self._keep_recording:
            self._continue_recording(live)
        else:
            self._expire_leftovers(self._live[0].sequence if self._live else self._next_sequence)
        return True

    def _delete_parts_from(self, sequence: int) -> None:
        for path in self.directory.glob("part_*.m4s"):
            match = PART_NAME.match(path.name)
            if match and int(match[1]) >= sequence:
                path.unlink(missing_ok=True)

    def start_run(self, init_segment: bytes) -> None:
        """Publish this run's init segment; the segments that follow name it."""
        self._init = f"init_{self._next_sequence}.mp4"
        write_atomically(self.directory / self._init, init_segment)

    def publish_part(
        self, data: bytes, duration: float, *, independent: bool, program_date_time: str
    ) -> None:
        """List the next part of the segment being written (its file first)."""
        if not self._parts:
            self._program_date_time = program_date_time
        uri = part_name(self._next_sequence, len(self._parts))
        write_atomically(self.directory / uri, data)
        self._parts.append(Part(uri, duration, independent))
        self._part_data.append(data)
        self._write_live()

    def has_parts(self) -> bool:
        return bool(self._parts)

    def publish_segment(self, duration: float) -> tuple[MediaSegment, int]:
        """Close the segment whose parts were published: write it whole, give it its
        number and list it. Returns the listed segment and its size in bytes."""
        sequence = self._next_sequence
        self._next_sequence += 1
        segment = MediaSegment(
            sequence,
            segment_name(sequence),
            duration,
            discontinuity=self._next_is_discontinuity,
            init=self._init,
            parts=tuple(self._parts),
            program_date_time=self._program_date_time,
        )
        data = b"".join(self._part_data)
        self._parts, self._part_data = [], []
        self._next_is_discontinuity = False
        # The file first, then the playlist that names it.
        write_atomically(self.directory / segment.uri, data)
        self._target_duration = max(self._target_duration, rounded_duration(duration))
        self._live.append(segment)
        self._forget_old_parts()
        if self._keep_recording:
            self._recording.append(replace(segment, parts=()))
            with open(self.directory / RECORDING_LOG, "a") as log:
                log.write(_log_line(segment))
            self._trim_recording()
        self._slide_window()
        self._write_live()
        self._delete_expired()
        return segment, len(data)

    def _write_live(self) -> None:
        self._reports[self.directory.name] = (
            self._next_sequence if self._parts else self._next_sequence - 1,
            len(self._parts) - 1 if self._parts else self._last_part_of_last_segment(),
        )
        write_atomically(self.directory / LIVE_PLAYLIST, self._render_live().encode())

    def _last_part_of_last_segment(self) -> int | None:
        if self._live and self._live[-1].parts:
            return len(self._live[-1].parts) - 1
        return None

    def _forget_old_parts(self) -> None:
        """Stop listing parts of older segments, and delete part files older still."""
        if len(self._live) > SEGMENTS_WITH_PARTS:
            index = len(self._live) - SEGMENTS_WITH_PARTS - 1
            self._live[index] = replace(self._live[index], parts=())
        gone = self._next_sequence - 1 - PART_FILES_KEPT
        if gone >= 0:
            for path in self.directory.glob(f"part_{gone}_*.m4s"):
                path.unlink(missing_ok=True)

    def finish(self) -> None:
        """The input ended: write the recording (the live playlist stays open)."""
        if self._keep_recording and self._recording:
            recording = recording_playlist(
                self._recording, self._target_duration, self._recording_discontinuity_sequence
            )
            write_atomically(
                self.directory / VOD_PLAYLIST, render_media_playlist(recording).encode()
            )

    def _trim_recording(self) -> None:
        if not self._max_recording:
            return
        recorded = sum(segment.duration for segment in self._recording)
        if recorded <= self._max_recording * RECORDING_SLACK:
            return
        # The live window and the segments just out of it are deleted by _delete_expired.
        served = {segment.sequence for segment in (*self._live, *self._expired)}
        while recorded > self._max_recording and len(self._recording) > 1:
            gone = self._recording.pop(0)
            recorded -= gone.duration
            if gone.discontinuity:
                self._recording_discontinuity_sequence += 1
            if gone.sequence not in served:
                (self.directory / gone.uri).unlink(missing_ok=True)
        log = "".join(_log_line(segment) for segment in self._recording)
        write_atomically(self.directory / RECORDING_LOG, log.encode())

    def _render_live(self) -> str:
        media_sequence = self._live[0].sequence if self._live else self._next_sequence
        pending_init = self._init if self._parts else None
        return render_media_playlist(
            MediaPlaylist(
                target_duration=self._target_duration,
                media_sequence=media_sequence,
                segments=tuple(self._live),
                discontinuity_sequence=self._discontinuity_sequence,
                part_target=self._part_target,
                pending_parts=tuple(self._parts),
                pending_init=pending_init,
                preload_hint=part_name(self._next_sequence, len(self._parts))
                if self._part_target
                else None,
                rendition_reports=self._rendition_reports(),
            )
        )

    def _rendition_reports(self) -> tuple[RenditionReport, ...]:
        return tuple(
            RenditionReport(f"../{name}/{LIVE_PLAYLIST}", sequence, part)
            for name, (sequence, part) in sorted(self._reports.items())
            if name != self.directory.name and sequence >= 0
        )

    def _slide_window(self) -> None:
        while len(self._live) > self._window:
            gone = self._live.popleft()
            if gone.discontinuity:
                self._discontinuity_sequence += 1
            self._expired.append(gone)

    def _delete_expired(self) -> None:
        while len(self._expired) > self._window:
            gone = self._expired.popleft()
            if not self._recorded(gone):
                (self.directory / gone.uri).unlink(missing_ok=True)

    def _recorded(self, segment: MediaSegment) -> bool:
        """Whether the recording still holds `segment` (it keeps a contiguous tail)."""
        return (
            self._keep_recording
            and bool(self._recording)
            and segment.sequence >= self._recording[0].sequence
        )

    def _continue_recording(self, live: MediaPlaylist) -> None:
        recorded = read_recording_log(self.directory)
        if not recorded:
            self._recording = list(live.segments)
            self._recording_discontinuity_sequence = live.discontinuity_sequence
            return
        last_recorded = recorded[-1].sequence
        newer = [s for s in live.segments if s.sequence > last_recorded]
        if newer and newer[0].sequence != last_recorded + 1:
            # Segments between the log and the live window were never logged (a log
            # line lost with the process); players need to know the timeline jumps.
            newer[0] = replace(newer[0], discontinuity=True)
        self._recording = [*recorded, *newer]
        self._next_sequence = max(self._next_sequence, last_recorded + 1)

    def _expire_leftovers(self, first_live_sequence: int) -> None:
        """Segments the previous run meant to delete later are ours to delete now."""
        leftovers = []
        for path in self.directory.iterdir():
            match = SEGMENT_NAME.match(path.name)
            if match and int(match[1]) < first_live_sequence:
                leftovers.append(MediaSegment(int(match[1]), path.name, 0.0))
            elif PART_NAME.match(path.name):
                path.unlink(missing_ok=True)  # the new run lists no old parts
        self._expired.extend(sorted(leftovers, key=lambda segment: segment.sequence))
        self._delete_expired()

    def _read(self, name: str) -> MediaPlaylist | None:
        path = self.directory / name
        if not path.exists():
            return None
        return parse_media_playlist(path.read_text())


def _log_line(segment: MediaSegment) -> str:
    return (
        f"{segment.sequence} {segment.duration:.6f} {int(segment.discontinuity)} "
        f"{segment.init or '-'}\n"
    )


def read_recording_log(directory: Path) -> list[MediaSegment]:
    """The segments `recording.log` lists (a torn last line from a kill is skipped)."""
    path = Path(directory) / RECORDING_LOG
    if not path.exists():
        return []
    segments, seen = [], set()
    for line in path.read_text().splitlines():
        parts = line.split()
        try:
            sequence, duration, discontinuity = int(parts[0]), float(parts[1]), parts[2] == "1"
            init = parts[3]
        except (IndexError, ValueError):
            continue
        if sequence in seen or duration <= 0 or not INIT_NAME.match(init):
            continue
        seen.add(sequence)
        segments.append(
            MediaSegment(sequence, segment_name(sequence), duration, discontinuity, init=init)
        )
    return segments


def recording_playlist(
    segments: list[MediaSegment], target_duration: int = 1, discontinuity_sequence: int = 0
) -> MediaPlaylist:
    """The VOD playlist of a recording."""
    return MediaPlaylist(
        target_duration=max(target_duration, *(rounded_duration(s.duration) for s in segments)),
        media_sequence=segments[0].sequence,
        segments=tuple(segments),
        discontinuity_sequence=discontinuity_sequence,
        playlist_type="VOD",
        ended=True,
    )


def end_live_playlists(output_directory: Path) -> None:
    """Mark every rendition's live playlist as complete (EXT-X-ENDLIST), so players stop
    polling and show the end. For the supervisor, after the reconnect grace period."""
    for path in sorted(Path(output_directory).glob(f"*/{LIVE_PLAYLIST}")):
        playlist = parse_media_playlist(path.read_text())
        ended = replace(
            playlist,
            segments=tuple(replace(segment, parts=()) for segment in playlist.segments),
            pending_parts=(),
            pending_init=None,
            preload_hint=None,
            rendition_reports=(),
            ended=True,
        )
        write_atomically(path, render_media_playlist(ended).encode())
