"""One rendition's playlists and segment files on disk, across reconnects.

Layout of rendition R in the output directory::

    R/seg_<sequence>.ts  segments, numbered without gaps, also across reconnects
    R/index.m3u8         the live playlist: the last --window segments; its
                         EXT-X-MEDIA-SEQUENCE advances as the window slides
    R/vod.m3u8           with --keep-recording: every segment of every run, written
                         when the input ends, with PLAYLIST-TYPE:VOD and ENDLIST
    R/recording.log      with --keep-recording: one line per published segment
                         ("<sequence> <duration> <discontinuity 0|1>"), appended as it
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

from streaming.transcoder.atomic_files import publish, write_atomically
from streaming.transcoder.playlist import (
    MediaPlaylist,
    MediaSegment,
    parse_media_playlist,
    render_media_playlist,
    rounded_duration,
)

LIVE_PLAYLIST = "index.m3u8"
VOD_PLAYLIST = "vod.m3u8"
RECORDING_LOG = "recording.log"
RECORDING_SLACK = 1.1  # trim the recording when it is this much longer than its limit
SEGMENT_NAME = re.compile(r"^seg_(\d+)\.ts$")


class RenditionPlaylist:
    def __init__(
        self,
        directory: Path,
        *,
        window: int,
        keep_recording: bool,
        segment_seconds: float,
        max_recording_seconds: float = 0.0,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
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

    def continue_existing(self) -> bool:
        """Pick up where a previous transcoder of this stream stopped; False when there is
        nothing to continue."""
        live = self._read(LIVE_PLAYLIST)
        if live is None or not live.segments:
            return False
        self._live = deque(live.segments)
        self._discontinuity_sequence = live.discontinuity_sequence
        self._target_duration = max(self._target_duration, live.target_duration)
        self._next_sequence = live.segments[-1].sequence + 1
        self._next_is_discontinuity = True
        if self._keep_recording:
            self._continue_recording(live)
        else:
            self._expire_leftovers(live.segments[0].sequence)
        return True

    def publish_segment(self, temporary: Path, duration: float) -> tuple[MediaSegment, int]:
        """Give the finished file at ``temporary`` its number and name, and list it.
        Returns the listed segment and its size in bytes."""
        sequence = self._next_sequence
        self._next_sequence += 1
        segment = MediaSegment(
            sequence, f"seg_{sequence}.ts", duration, discontinuity=self._next_is_discontinuity
        )
        self._next_is_discontinuity = False
        byte_size = temporary.stat().st_size
        # The file first, then the playlist that names it.
        publish(temporary, self.directory / segment.uri)
        self._target_duration = max(self._target_duration, rounded_duration(duration))
        self._live.append(segment)
        if self._keep_recording:
            self._recording.append(segment)
            with open(self.directory / RECORDING_LOG, "a") as log:
                log.write(_log_line(segment))
            self._trim_recording()
        self._slide_window()
        write_atomically(self.directory / LIVE_PLAYLIST, self._render_live().encode())
        self._delete_expired()
        return segment, byte_size

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
        return render_media_playlist(
            MediaPlaylist(
                target_duration=self._target_duration,
                media_sequence=self._live[0].sequence,
                segments=tuple(self._live),
                discontinuity_sequence=self._discontinuity_sequence,
            )
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
        self._expired.extend(sorted(leftovers, key=lambda segment: segment.sequence))
        self._delete_expired()

    def _read(self, name: str) -> MediaPlaylist | None:
        path = self.directory / name
        if not path.exists():
            return None
        return parse_media_playlist(path.read_text())


def _log_line(segment: MediaSegment) -> str:
    return f"{segment.sequence} {segment.duration:.6f} {int(segment.discontinuity)}\n"


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
        except (IndexError, ValueError):
            continue
        if sequence in seen or duration <= 0:
            continue
        seen.add(sequence)
        segments.append(MediaSegment(sequence, f"seg_{sequence}.ts", duration, discontinuity))
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
        write_atomically(path, render_media_playlist(replace(playlist, ended=True)).encode())
