"""``thumbnail.jpg``: a small still of the stream for listings, refreshed as it runs.

It is made from a source keyframe packet with a decoder of its own, so a copied
stream (which is otherwise never decoded) pays for one keyframe decode every few
seconds and nothing else. JPEG comes from FFmpeg's mjpeg encoder, so no imaging
library is needed.
"""

import logging
from fractions import Fraction
from pathlib import Path

import av
import av.error

from streaming.transcoder.atomic_files import write_atomically

logger = logging.getLogger(__name__)

THUMBNAIL_NAME = "thumbnail.jpg"
THUMBNAIL_WIDTH = 320


class ThumbnailWriter:
    def __init__(
        self, directory: Path, source: av.video.stream.VideoStream, every_seconds: float
    ) -> None:
        self._path = directory / THUMBNAIL_NAME
        self._codec_name = source.codec_context.name
        self._extradata = source.codec_context.extradata
        self._every = every_seconds
        self._last: float | None = None
        self.width = THUMBNAIL_WIDTH
        source_width = source.codec_context.width
        source_height = source.codec_context.height
        self.height = max(2, round(source_height * THUMBNAIL_WIDTH / source_width / 2) * 2)

    def offer(self, keyframe: av.Packet, media_seconds: float) -> None:
        """Refresh the thumbnail from ``keyframe`` if the last one is old enough."""
        if self._last is not None and media_seconds - self._last < self._every:
            return
        try:
            frame = self._decode(keyframe)
            if frame is None:
                return
            write_atomically(self._path, self._encode_jpeg(frame))
        except av.error.FFmpegError as error:
            # A damaged keyframe costs us one thumbnail, never the stream.
            logger.warning("thumbnail skipped: %s", error)
            return
        self._last = media_seconds

    def _decode(self, keyframe: av.Packet) -> av.VideoFrame | None:
        # A fresh decoder each time: a keyframe decodes on its own, and draining a
        # decoder (to get the frame out now) leaves it unusable for the next packet.
        decoder = av.CodecContext.create(self._codec_name, "r")
        decoder.extradata = self._extradata
        frames = decoder.decode(keyframe) + decoder.decode(None)
        return frames[0] if frames else None

    def _encode_jpeg(self, frame: av.VideoFrame) -> bytes:
        small = frame.reformat(
            self.width, self.height, "yuvj420p", interpolation="BICUBIC", dst_color_range="JPEG"
        )
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width = self.width
        encoder.height = self.height
        encoder.pix_fmt = "yuvj420p"
        encoder.time_base = Fraction(1, 25)
        packets = encoder.encode(small) + encoder.encode(None)
        return b"".join(bytes(packet) for packet in packets)
