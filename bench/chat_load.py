"""Chat load benchmark: N viewers and M senders in one room, ours against the textbook consumer.

    .venv/bin/python bench/chat_load.py                      # scenarios a, b and c
    .venv/bin/python bench/chat_load.py --scenarios a --repeat 2

Needs MariaDB on 127.0.0.1:3306 and Redis on 127.0.0.1:6379 (it uses its own
database, livesite_bench_chat, and Redis db 13). Sends traffic only to
127.0.0.1, stops by itself, and stops every process it started. See
bench/chat/scenarios.py for the scenarios and --help for the options.
"""

import sys
from pathlib import Path


def main() -> int:
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)  # run as a script: make `bench.chat` importable
    from bench.chat.scenarios import main as run_benchmark

    return run_benchmark(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
