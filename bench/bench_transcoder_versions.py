"""Transcoder CPU, this checkout against another: the same input, the same ladder.

Makes one FLV (720p30 H.264/AAC, a keyframe every 2 s, as OBS sends), then runs
``python -m streaming.transcoder`` of each checkout on it in turns (A B A B ...), each
as fast as it can, and adds up each child's user + system CPU seconds. The machine is
shared and noisy, so rounds alternate and only the ratio is meant to be read.

    .venv/bin/python bench/bench_transcoder_versions.py --baseline /path/to/old/checkout
    .venv/bin/python bench/bench_transcoder_versions.py --baseline OLD --ladder none
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_input(path: Path, seconds: int) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p",
         "-b:v", "3M", "-c:a", "aac", "-f", "flv", str(path)],
        check=True,
    )  # fmt: skip


def cpu_of_run(root: Path, source: Path, output: Path, ladder: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(source, "rb") as stdin:
        subprocess.run(
            [sys.executable, "-m", "streaming.transcoder", "--output", str(output),
             "--ladder", ladder, "--keep-recording"],
            cwd=root, stdin=stdin, stdout=subprocess.DEVNULL, check=True,
        )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ladder", default="720,480,360")
    args = parser.parse_args()
    totals = {"baseline": 0.0, "this": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "input.flv"
        make_input(source, args.seconds)
        for round_number in range(args.rounds):
            for label, root in (("baseline", args.baseline), ("this", ROOT)):
                output = Path(folder) / f"{label}-{round_number}"
                seconds = cpu_of_run(root.resolve(), source, output, args.ladder)
                totals[label] += seconds
                print(f"round {round_number} {label}: {seconds:.2f} CPU s", flush=True)
    per_media = {k: v / args.rounds / args.seconds for k, v in totals.items()}
    print(
        f"ladder={args.ladder} CPU s per media s: baseline={per_media['baseline']:.3f} "
        f"this={per_media['this']:.3f} ratio={per_media['this'] / per_media['baseline']:.3f}"
    )


if __name__ == "__main__":
    main()
