"""WebRTC media for the ingest: WHIP publishers in, encoded frames out (aiortc).

    offer.py           checks an SDP offer before aiortc sees it (size, shape, video)
    network.py         ICE servers and the public address (1:1 NAT) from settings
    udp_ports.py       host candidates on a UDP port range (aioice has no option for it)
    encoded_frames.py  makes aiortc hand over encoded frames instead of decoding them
    matroska.py        muxes those frames (H.264 or VP8, Opus) into a live Matroska stream
    publisher.py       one WHIP peer: answer, receive, mux, end

Django stays out of this package; ``streaming/ingest/whip.py`` is where it meets rooms.
"""
