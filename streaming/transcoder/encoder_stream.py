"""An encoder whose parameters segment files can copy.

Every segment is its own MPEG-TS file, so each segment container needs a stream that
describes our encoder's output (size, and for AAC the AudioSpecificConfig that the TS
muxer turns into ADTS headers). PyAV copies those parameters only from a ``Stream``
(``add_stream_from_template``) and has no way to set extradata on a bare stream, so
the encoder lives on a stream of a small template container that is opened (which
fills in the parameters) but never receives a packet.
"""

import io

import av


def new_encoder_stream(codec_name: str, rate, configure) -> av.stream.Stream:
    """Open ``codec_name`` after ``configure(stream)`` has set it up; returns the stream,
    whose ``codec_context`` is the encoder and which serves as the segments' template."""
    template = av.open(io.BytesIO(), "w", format="mpegts")
    stream = template.add_stream(codec_name, rate=rate)
    configure(stream)
    # Opens the encoder and copies its parameters (extradata included) to the stream.
    template.start_encoding()
    return stream
