"""Which renditions a stream gets: the source plus the smaller rungs of the ladder.

The source rendition keeps the broadcaster's resolution (copied when the browser can
play it as it is, see ``input_source.py``); every rung of the ladder that is smaller than the
source is encoded with libx264 at a width that keeps the aspect ratio.
"""

from dataclasses import dataclass

DEFAULT_LADDER_HEIGHTS = (720, 480, 360)
SOURCE_RENDITION = "source"

# Roughly 0.1 bit per pixel per frame is the usual budget for H.264 at "veryfast"
# (about 2.8 Mbit/s at 720p30, 1.2 at 480p30, 0.7 at 360p30). Above 30 fps the extra
# frames are cheaper because they differ less, so the frame rate counts half beyond 30.
BITS_PER_PIXEL = 0.1
AUDIO_BITRATE = 128_000


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    copy_video: bool
    # The VBV ceiling (maxrate) for encoded renditions; None for a copied one.
    video_bitrate: int | None

    @property
    def directory_name(self) -> str:
        return self.name


def plan_renditions(
    source_width: int,
    source_height: int,
    frame_rate: float,
    ladder_heights: tuple[int, ...],
    copy_source: bool,
) -> list[Rendition]:
    """The source first, then each ladder height below it, largest first."""
    source_bitrate = None if copy_source else video_bitrate(source_width, source_height, frame_rate)
    renditions = [
        Rendition(SOURCE_RENDITION, source_width, source_height, copy_source, source_bitrate)
    ]
    for height in sorted(set(ladder_heights), reverse=True):
        if height >= source_height:
            continue
        width = scaled_width(source_width, source_height, height)
        renditions.append(
            Rendition(f"{height}p", width, height, False, video_bitrate(width, height, frame_rate))
        )
    return renditions


def scaled_width(source_width: int, source_height: int, height: int) -> int:
    """The width that keeps the aspect ratio at ``height``, rounded to an even number
    because 4:2:0 chroma needs even dimensions."""
    return max(2, round(source_width * height / source_height / 2) * 2)


def video_bitrate(width: int, height: int, frame_rate: float) -> int:
    effective_rate = min(frame_rate, 30) + max(0.0, frame_rate - 30) / 2
    return round(width * height * effective_rate * BITS_PER_PIXEL / 1000) * 1000
