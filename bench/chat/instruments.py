"""Diagnostics a variant installs in its own daphne process, logged to that process's log.

- CollectorClock: how long the cyclic garbage collector ran, per generation
  (a sampling profiler charges that time to whichever line happened to allocate).
- HubTimings: where an event's time goes inside the server: from the message's
  stamp (`ts`, taken when it got its id) to the hub taking it from the channel
  layer; the fan-outs and their durations; the batch writer's batches.
"""

import gc
import json
import logging
import time

from chat.hub import RoomHub
from chat.writer import MessageWriter

REPORT_EVERY = 5.0


def _spread(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    ordered = sorted(seconds)
    return f"p50 {ordered[len(ordered) // 2] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"


class CollectorClock:
    def __init__(self):
        self.started: float | None = None
        self.seconds = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]
        self.longest = [0.0, 0.0, 0.0]  # one pass stalls the event loop: the tail's share
        self.last_report = time.monotonic()

    def install(self) -> None:
        gc.callbacks.append(self.on_collect)

    def on_collect(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.process_time()
            return
        if self.started is None:
            return
        generation = info["generation"]
        spent = time.process_time() - self.started
        self.seconds[generation] += spent
        self.runs[generation] += 1
        self.longest[generation] = max(self.longest[generation], spent)
        self.started = None
        now = time.monotonic()
        if now - self.last_report >= REPORT_EVERY:
            logging.getLogger("bench.gc").warning(
                "gc CPU in the last %.1f s: %s s in %s runs, longest %s s (generations 0, 1, 2)",
                now - self.last_report,
                [round(s, 3) for s in self.seconds],
                self.runs,
                [round(s, 3) for s in self.longest],
            )
            self.seconds, self.runs, self.last_report = [0.0, 0.0, 0.0], [0, 0, 0], now
            self.longest = [0.0, 0.0, 0.0]


class HubTimings:
    def __init__(self):
        self.intake: list[float] = []
        self.fan_outs: list[float] = []
        self.batches: list[tuple[int, float]] = []
        self.last_report = time.monotonic()

    def install(self) -> None:
        timings, deliver, fan_out = self, RoomHub.deliver, RoomHub.fan_out
        write = MessageWriter._write

        async def timed_deliver(hub, frame):  # the encoded event, as published
            if '"chat.message"' in frame:
                event = json.loads(frame)
                timings.intake.append(time.time() - event["ts"] / 1000)
            await deliver(hub, frame)
            timings.report()

        async def timed_fan_out(hub, frame):
            started = time.perf_counter()
            await fan_out(hub, frame)
            timings.fan_outs.append(time.perf_counter() - started)

        async def timed_write(writer, batch):
            started = time.perf_counter()
            await write(writer, batch)
            timings.batches.append((len(batch), time.perf_counter() - started))

        RoomHub.deliver, RoomHub.fan_out = timed_deliver, timed_fan_out
        MessageWriter._write = timed_write

    def report(self) -> None:
        now = time.monotonic()
        if now - self.last_report < REPORT_EVERY:
            return
        sizes = [size for size, _ in self.batches]
        logging.getLogger("bench.timing").warning(
            "last %.1f s: stamp to hub %s (%d events); %d fan-outs, %s; "
            "%d writer batches of %.1f messages, %s",
            now - self.last_report,
            _spread(self.intake),
            len(self.intake),
            len(self.fan_outs),
            _spread(self.fan_outs),
            len(self.batches),
            sum(sizes) / len(sizes) if sizes else 0,
            _spread([seconds for _, seconds in self.batches]),
        )
        self.intake, self.fan_outs, self.batches, self.last_report = [], [], [], now
