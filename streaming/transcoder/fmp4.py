"""CMAF (fragmented MP4) bytes for one rendition: an init segment and media fragments.

LL-HLS needs partial segments of about a third of a second that we cut ourselves, at
the same media time in every rendition (see ``segment_writer``). FFmpeg's mp4 muxer
writes correct CMAF fragments (``moof`` + ``mdat``, ``default_base_moof``, ``tfdt``
with the absolute decode time, H.264 turned into length-prefixed NAL units, ``avcC``
and ``esds`` from the encoders' parameters), but it decides by itself where fragments
end: PyAV cannot call ``av_write_frame(ctx, NULL)``, the only way to flush a
``frag_custom`` fragment, and ``frag_duration`` cuts each rendition on its own
(on whichever track crosses the duration first). So we run one short-lived muxer per
part: it is given exactly the part's packets and its trailer writes them as one
fragment. ``frag_discont`` with ``use_editlist=0`` and ``avoid_negative_ts=disabled``
makes its ``tfdt`` the packets' absolute decode time, so fragments from separate
muxers concatenate into one continuous track; we keep its ``moof``/``mdat`` boxes,
drop its ``ftyp``/``moov`` (identical to the init segment written once) and renumber
``mfhd`` so sequence numbers rise across parts as ISO BMFF asks. A muxer per part costs
well under a millisecond (``bench/bench_transcoder.py``), and writing the box layer by
hand (sample tables, ``avcC`` from Annex B, ``esds``) would have been several hundred
lines of format code to get exactly as right as FFmpeg already does.
"""

import io
import struct
from collections.abc import Callable

import av
import av.error

MP4_OPTIONS = {
    "movflags": "frag_custom+empty_moov+default_base_moof+frag_discont",
    "use_editlist": "0",
    "avoid_negative_ts": "disabled",
}
INIT_BOXES = ("ftyp", "moov")
FRAGMENT_BOXES = ("moof", "mdat")
# In a moof box: its own header (8), mfhd's header (8) and version/flags (4).
MFHD_SEQUENCE_OFFSET = 20


def top_level_boxes(data: bytes):
    """(type, start, size) for every top-level box in ``data``."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size < 8:
            return  # 0 (to end of file) and 64-bit sizes never occur in what we write
        yield kind.decode("latin-1"), offset, size
        offset += size


def _boxes_of_kind(data: bytes, kinds: tuple[str, ...]) -> bytes:
    return b"".join(
        data[start : start + size] for kind, start, size in top_level_boxes(data) if kind in kinds
    )


class FragmentMuxer:
    """Turns lists of packets into fragments, for one rendition's streams."""

    def __init__(
        self, video_template: av.stream.Stream, audio_template, on_dropped_packet: Callable
    ) -> None:
        self._on_dropped_packet = on_dropped_packet
        self._templates = [video_template]
        if audio_template is not None:
            self._templates.append(audio_template)
        self._sequence = 0
        self.init_segment = _boxes_of_kind(self._mux([]), INIT_BOXES)

    def fragment(self, packets: list[tuple[int, av.Packet]]) -> bytes:
        """One ``moof`` + ``mdat`` per call; ``packets`` are (stream number, packet)
        in the order to write them, 0 being video and 1 audio."""
        data = bytearray(_boxes_of_kind(self._mux(packets), FRAGMENT_BOXES))
        if not any(kind == "mdat" for kind, _, _ in top_level_boxes(bytes(data))):
            return b""
        for kind, start, _ in top_level_boxes(bytes(data)):
            if kind == "moof":
                self._sequence += 1
                struct.pack_into(">I", data, start + MFHD_SEQUENCE_OFFSET, self._sequence)
        return bytes(data)

    def _mux(self, packets: list[tuple[int, av.Packet]]) -> bytes:
        output = io.BytesIO()
        container = av.open(output, "w", format="mp4", options=MP4_OPTIONS)
        streams = [container.add_stream_from_template(t) for t in self._templates]
        if not packets:
            container.start_encoding()
        for number, packet in packets:
            packet.stream = streams[number]
            try:
                container.mux(packet)
            except av.error.FFmpegError:
                # The muxer refuses e.g. a timestamp that goes backwards in damaged
                # input; losing that packet is better than losing the stream.
                self._on_dropped_packet()
        try:
            container.close()
        except av.error.FFmpegError:
            self._on_dropped_packet()
            return b""
        return output.getvalue()
