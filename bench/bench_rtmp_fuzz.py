"""The RTMP fuzzer at any size: many seeds, millions of cases, or one case to reproduce.

CI runs 100,000 cases of one fixed seed (livesite/tests/faults/test_rtmp_fuzz.py);
this runs more, in parallel over seeds, and prints every crash with the seed and case
number that reproduce it:

    .venv/bin/python bench/bench_rtmp_fuzz.py --cases 1000000 --seeds 1 2 3 4
    .venv/bin/python bench/bench_rtmp_fuzz.py --seeds 7 --first 4711 --cases 1   # one case

No network and no services: the parsers run in this process.
"""

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def run_seed(seed: int, cases: int, first: int):
    import django

    django.setup()
    from livesite.tests.faults import rtmp_fuzz

    return rtmp_fuzz.run(seed, cases, first)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[20261203])
    parser.add_argument("--first", type=int, default=0, help="first case number")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    options = parser.parse_args(argv)
    repo = str(Path(__file__).resolve().parent.parent)
    sys.path.insert(0, repo)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "livesite.settings")
    crashes = 0
    with ProcessPoolExecutor(options.workers) as pool:
        jobs = [pool.submit(run_seed, s, options.cases, options.first) for s in options.seeds]
        for job in jobs:
            report = job.result()
            rate = report.cases / report.seconds if report.seconds else 0
            print(
                f"seed {report.seed}: {report.cases} cases in {report.seconds:.1f} s"
                f" ({rate:,.0f}/s), {report.refused} refused with ProtocolError,"
                f" {len(report.crashes)} crashes; {dict(report.by_target)}"
            )
            for crash in report.crashes:
                print(crash)
            crashes += len(report.crashes)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
