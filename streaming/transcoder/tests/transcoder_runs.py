"""Run the transcoder the way the ingest does: a child process, FLV through a pipe."""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class TranscoderRun:
    exit_status: int
    events: list[dict]
    stderr: str

    def of_kind(self, kind: str) -> list[dict]:
        return [event for event in self.events if event["event"] == kind]

    @property
    def ended(self) -> dict:
        assert self.events[-1]["event"] == "ended", self.stderr
        return self.events[-1]


def transcode(broadcast: Path, output: Path, *options: str) -> TranscoderRun:
    completed = subprocess.run(
        [sys.executable, "-m", "streaming.transcoder", "--output", str(output), *options],
        input=broadcast.read_bytes(),
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=180,
    )
    events = [json.loads(line) for line in completed.stdout.decode().splitlines()]
    return TranscoderRun(completed.returncode, events, completed.stderr.decode())
