"""Figures from measurements: latency percentiles and the markdown tables the benchmark prints."""

import os
from collections import Counter

from bench.chat.load import LATENCY_BINS_PER_SECOND
from bench.chat.measurement import Result

P99_TARGET_MS = 250

COLUMNS = [
    "server",
    "daphne processes",
    "viewers",
    "msgs/s in",
    "deliveries/s",
    "p50 ms",
    "p99 ms",
    "lost",
    "server CPU s/s",
    "server waiting for a core s/s",
    "deliveries per CPU-s",
    "ours/baseline",
    "generator CPU s/s (processes)",
]


def percentile_ms(histogram: Counter, fraction: float) -> float | None:
    """The latency below which `fraction` of deliveries fell, from 0.1 ms bins."""
    count = sum(histogram.values())
    if not count:
        return None
    rank, seen = fraction * count, 0
    for bin_index in sorted(histogram):
        seen += histogram[bin_index]
        if seen >= rank:
            return (bin_index + 1) * 1000 / LATENCY_BINS_PER_SECOND
    return None


def _quantile_ms(seconds: list[float], fraction: float) -> float | None:
    if not seconds:
        return None
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def deliveries_per_cpu_second(result: Result) -> float:
    return result.deliveries / result.server_cpu if result.server_cpu else 0.0


def meets_targets(result: Result) -> bool:
    p99 = percentile_ms(result.histogram, 0.99)
    return (
        p99 is not None
        and p99 < P99_TARGET_MS
        and result.lost == 0
        and result.connect_failures == 0
        and result.servers_alive
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def row(result: Result, baseline: Result | None = None) -> str:
    load = result.load
    ratio = "-"
    if baseline is not None and deliveries_per_cpu_second(baseline):
        ratio = f"{deliveries_per_cpu_second(result) / deliveries_per_cpu_second(baseline):.1f}x"
    viewers = f"{result.connected:,}"
    if result.connect_failures:
        viewers += f" ({result.connect_failures} failed)"
    cells = [
        load.application,
        str(load.server_processes),
        viewers,
        f"{load.rate:g}",
        f"{result.deliveries / load.duration:,.0f}",
        _ms(percentile_ms(result.histogram, 0.50)),
        _ms(percentile_ms(result.histogram, 0.99)),
        f"{result.lost:,}",
        f"{result.server_cpu / result.window:.2f}",
        f"{result.server_waiting / result.window:.2f}",
        f"{deliveries_per_cpu_second(result):,.0f}",
        ratio,
        f"{result.generator_cpu / result.window:.2f} ({result.generator_processes})",
    ]
    return "| " + " | ".join(cells) + " |"


def cores_needed(result: Result) -> float:
    """Server cores this load needs at the CPU cost per delivery measured here."""
    per_cpu_second = deliveries_per_cpu_second(result)
    wanted = result.connected * result.load.rate
    return wanted / per_cpu_second if per_cpu_second else 0.0


def notes(result: Result) -> str:
    load = result.load
    parts = [
        f"{load.application}, {result.connected} viewers: {result.sent} sent by "
        f"{load.senders} senders over {load.duration:g} s, {result.rejected} refused"
        f"{f' {dict(result.sender_errors)}' if result.sender_errors else ''}, "
        f"{result.acked} echoed to their sender",
        f"max latency {_ms(percentile_ms(result.histogram, 1.0))} ms",
        "from send to the server's stamp p50/p99 "
        f"{_ms(_quantile_ms(list(result.before_stamp.values()), 0.5))}/"
        f"{_ms(_quantile_ms(list(result.before_stamp.values()), 0.99))} ms, "
        "from the stamp to the viewer p50/p99 "
        f"{_ms(percentile_ms(result.after_stamp, 0.5))}/"
        f"{_ms(percentile_ms(result.after_stamp, 0.99))} ms",
        f"{result.viewers_with_loss} viewers missed messages "
        f"(worst: {result.max_lost_by_one_viewer})",
        f"{result.duplicates} duplicates",
        f"window {result.window:.1f} s, server CPU {result.server_cpu:.1f} s, "
        f"server loop thread waiting for a core {result.server_waiting:.1f} s, "
        f"generator CPU {result.generator_cpu:.1f} s, "
        f"generator loop threads waiting for a core {result.generator_waiting:.1f} s",
        f"generator loop lag p99 {result.generator_lag_p99_ms:.0f} ms",
        f"at this CPU cost the load needs {cores_needed(result):.2f} server cores",
        f"load average {result.load_average:.1f} on {os.cpu_count()} cores when sending began",
    ]
    if result.closed:
        parts.append(f"sockets closed early: {dict(result.closed)}")
    if not result.servers_alive:
        parts.append("A SERVER DIED")
    return "- " + "; ".join(parts)


def table(
    title: str, results: list[Result], baseline: Result | None = None, ratio_title: str = ""
) -> str:
    """A markdown table; the ratio column compares deliveries per CPU-s with `baseline`."""
    columns = [*COLUMNS[:-2], ratio_title or COLUMNS[-2], COLUMNS[-1]]
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [row(r, baseline if r is not baseline else None) for r in results]
    lines += [""] + [notes(r) for r in results]
    return "\n".join(lines)
