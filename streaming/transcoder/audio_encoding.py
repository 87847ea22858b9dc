"""AAC for sources whose audio browsers cannot play in HLS (MP3, Opus, PCM, Speex...).

The audio is decoded and encoded once; every rendition muxes the same AAC packets.
"""

from fractions import Fraction

import av

from streaming.transcoder.encoder_stream import new_encoder_stream
from streaming.transcoder.ladder import AUDIO_BITRATE

# Rates the AAC encoder and every HLS player handle; anything else is resampled to 48k.
KEPT_SAMPLE_RATES = (44100, 48000)
AAC_FRAME_SAMPLES = 1024


class AacAudioEncoder:
    def __init__(self, source: av.audio.stream.AudioStream) -> None:
        self._decoder = source.codec_context
        rate = source.codec_context.sample_rate
        self.sample_rate = rate if rate in KEPT_SAMPLE_RATES else 48000
        self.layout = "mono" if source.codec_context.layout.nb_channels == 1 else "stereo"
        self._resampler = av.AudioResampler(
            format="fltp",
            layout=self.layout,
            rate=self.sample_rate,
            frame_size=AAC_FRAME_SAMPLES,
        )
        self.stream = new_encoder_stream("aac", self.sample_rate, self._configure)
        self._encoder = self.stream.codec_context

    def encode(self, packet: av.Packet | None) -> list[av.Packet]:
        """AAC packets for one source packet; ``None`` flushes. Raises av.error.FFmpegError
        for a packet the decoder rejects."""
        frames = self._decoder.decode(packet)
        resampled = []
        for frame in frames:
            resampled += self._resampler.resample(frame)
        if packet is None:
            resampled += self._resampler.resample(None)
        packets = []
        for frame in resampled:
            packets += self._encoder.encode(frame)
        if packet is None:
            packets += self._encoder.encode(None)
        return packets

    def _configure(self, stream) -> None:
        stream.layout = self.layout
        stream.bit_rate = AUDIO_BITRATE if self.layout == "stereo" else AUDIO_BITRATE // 2
        stream.time_base = Fraction(1, self.sample_rate)
        stream.codec_context.time_base = Fraction(1, self.sample_rate)
