"""``python -m streaming.transcoder --output DIR ...``: FLV on stdin, HLS in DIR.

See ``streaming/transcoder/__init__.py`` for the data flow and ``events.py`` for what is
printed on stdout.
"""

import logging
import sys

from streaming.transcoder.events import EventStream
from streaming.transcoder.input_source import live_stdin
from streaming.transcoder.options import parse_options
from streaming.transcoder.pipeline import run_transcoder


def main() -> int:
    options = parse_options()
    # stdout belongs to the events; diagnostics go to stderr.
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="transcoder %(levelname)s %(message)s"
    )
    return run_transcoder(options, live_stdin(), EventStream(sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
