"""The per-stream transcoder: one process turns one broadcaster's FLV into HLS.

The ingest starts ``python -m streaming.transcoder --output DIR`` for every live
stream and writes the publisher's FLV bytes to its stdin. This package never imports
Django; it talks to its supervisor through one JSON object per line on stdout
(``events.py``) and through the files it publishes in DIR.

Data flow, one thread, one process::

    stdin FLV -> input_source (demux, survives corrupt data)
              -> timeline     (one output clock, implausible timestamps dropped)
              -> segment_clock (where every rendition cuts; keyframes at the cuts)
              -> copy: the source packets              \\
              -> decode -> video_encoding (scale, x264) -> segment_writer (CMAF parts)
              -> audio: copied AAC, or audio_encoding   /        |
                                                        rendition_playlist (index.m3u8)
                                                        master_playlist (master.m3u8)
              -> thumbnail (keyframes only)  -> thumbnail.jpg
              -> health -> events on stdout

Why PyAV in-process rather than an ffmpeg child as Owncast does: the ffmpeg HLS
muxer cuts every variant on its own, so a copied source rendition and encoded
renditions end up with segments that start at different times; we also need a
per-segment event for the supervisor, playlists that a second process can continue
after a reconnect, and measured BANDWIDTH/CODECS in the master playlist. With the
libraries in-process each of those is a few lines, and the CPU cost is the same as
the ffmpeg CLI (see ``bench/bench_transcoder.py``).
"""
