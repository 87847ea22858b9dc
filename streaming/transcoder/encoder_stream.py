"""An encoder whose parameters segment files can copy.

Every part is muxed by a muxer of its own (see ``fmp4``), so each needs a stream that
describes our encoder's output (size, the H.264 parameter sets for ``avcC`` and the AAC
AudioSpecificConfig for ``esds``). PyAV copies those parameters only from a ``Stream``
(``add_stream_from_template``) and has no way to set extradata on a bare stream, so
the encoder lives on a stream of a small template container that is opened (which
fills in the parameters) but never receives a packet.
"""

import io

import av


def new_encoder_stream(codec_name: str, rate, configure) -> av.stream.Stream:
    """Open ``codec_name`` after ``configure(stream)`` has set it up; returns the stream,
    whose ``codec_context`` is the encoder and which serves as the segments' template."""
    # An mp4 template makes PyAV ask the encoder for global headers (extradata), which
    # the init segment needs; the parameter sets are then not repeated in-band.
    template = av.open(io.BytesIO(), "w", format="mp4")
    stream = template.add_stream(codec_name, rate=rate)
    configure(stream)
    # Opens the encoder and copies its parameters (extradata included) to the stream.
    template.start_encoding()
    return stream
