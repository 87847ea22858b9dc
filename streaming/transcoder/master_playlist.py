"""``master.m3u8``: every rendition with what a player needs to choose between them.

Written once every rendition has published a segment (before that a player would be
offered a rendition with no playlist), and rewritten whenever a figure changes.

BANDWIDTH must be the peak bit rate of any segment (RFC 8216 4.3.4.2). For an encoded
rendition the VBV ceiling (maxrate plus audio) bounds it from the first second; for a
copied source only measurement can tell, so it is the highest segment rate seen so
far. AVERAGE-BANDWIDTH is the measured mean. CODECS comes from each rendition's own
sequence parameter set (see ``codec_strings``).
"""

from dataclasses import dataclass
from pathlib import Path

from streaming.transcoder.atomic_files import write_atomically
from streaming.transcoder.ladder import Rendition
from streaming.transcoder.playlist import Variant, render_master_playlist
from streaming.transcoder.rendition_playlist import LIVE_PLAYLIST

MASTER_PLAYLIST = "master.m3u8"


@dataclass
class _Measured:
    codecs: tuple[str, ...]
    peak_bandwidth: int = 0
    total_bits: int = 0
    total_seconds: float = 0.0


class MasterPlaylistWriter:
    def __init__(
        self,
        directory: Path,
        renditions: list[Rendition],
        *,
        frame_rate: float,
        audio_bitrate: int | None,
    ) -> None:
        self._path = directory / MASTER_PLAYLIST
        self._renditions = renditions
        self._frame_rate = frame_rate
        self._audio_bitrate = audio_bitrate or 0
        self._measured: dict[str, _Measured] = {}
        self._written: str | None = None

    def record_segment(
        self, rendition: Rendition, duration: float, byte_size: int, codecs: tuple[str, ...]
    ) -> None:
        measured = self._measured.setdefault(rendition.name, _Measured(codecs))
        bits = byte_size * 8
        measured.peak_bandwidth = max(measured.peak_bandwidth, round(bits / duration))
        measured.total_bits += bits
        measured.total_seconds += duration
        if len(self._measured) == len(self._renditions):
            self._write_if_changed()

    def _write_if_changed(self) -> None:
        text = render_master_playlist([self._variant(r) for r in self._renditions])
        if text != self._written:
            write_atomically(self._path, text.encode())
            self._written = text

    def _variant(self, rendition: Rendition) -> Variant:
        measured = self._measured[rendition.name]
        ceiling = 0
        if rendition.video_bitrate:
            ceiling = rendition.video_bitrate + self._audio_bitrate
        average = round(measured.total_bits / measured.total_seconds)
        return Variant(
            uri=f"{rendition.directory_name}/{LIVE_PLAYLIST}",
            bandwidth=max(measured.peak_bandwidth, ceiling),
            average_bandwidth=average,
            width=rendition.width,
            height=rendition.height,
            codecs=measured.codecs,
            frame_rate=self._frame_rate,
        )
