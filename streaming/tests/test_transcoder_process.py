"""The ingest's side of a transcoder child: its real-time pipe (ingest/transcoder_process.py).

The child here is a few lines of Python writing records in the transcoder's format
(streaming/transcoder/realtime_output.py), so the pipe is a real pipe between processes.
"""

import sys

from streaming.ingest.transcoder_process import REALTIME_FD_PLACEHOLDER, TranscoderProcess

WRITER = """
import os, struct, sys
fd = int(sys.argv[1])
for n in range(3):
    data = b"frame%d" % n
    os.write(fd, struct.pack(">BIQ", 1, len(data), n * 3000) + data)
"""


async def test_a_failing_frame_handler_does_not_stop_the_pipe_being_read():
    """Were the reader to stop, the pipe would fill and block the transcoder (and HLS)."""
    frames = []

    def on_realtime(keyframe, pts, data):
        if not frames and data == b"frame0":
            frames.append("failed")
            raise RuntimeError("a viewer's track went away")
        frames.append((keyframe, pts, data))

    process = TranscoderProcess(
        [sys.executable, "-c", WRITER, REALTIME_FD_PLACEHOLDER], on_realtime=on_realtime
    )
    await process.start()
    await process.finish(timeout=10)
    assert frames == ["failed", (True, 3000, b"frame1"), (True, 6000, b"frame2")]
