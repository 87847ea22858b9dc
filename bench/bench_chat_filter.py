"""Benchmark: the chat filter engine against two naive baselines.

Run from the project root (about half a minute):

    .venv/bin/python bench/bench_chat_filter.py

For 1,000 and 10,000 blocked terms (a deterministic, seeded word list of made-up
words plus common profanity), it times, on one corpus of typical chat messages
(clean chat, dirty messages with and without evasion, links, emoji):

* the engine with terms only, and with terms, a link allow-list and flood limits;
* a loop of ``term in text.lower()`` over every term;
* one alternation regex, ``re.compile("|".join(map(re.escape, terms)))``.

The baselines undo no evasion (no accents, look-alikes, leetspeak, spacing,
repeats or invisible characters) and ignore word boundaries, so they are faster
than a fair comparison: the "flagged" column shows what each one actually catches.
Each message is timed alone, in CPU time of the benchmark thread
(``time.thread_time_ns``, less the timer's own measured cost), so other processes
on a shared machine do not inflate the figures as they would wall-clock time; the
table gives the median and 99th percentile over every message of every round, in
microseconds. Compile times are CPU time too.
"""

import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Runnable as a plain script from anywhere: the project root holds the packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moderation.filtering import (
    BlockedTerm,
    FloodLimits,
    LinkPolicy,
    compile_filter,
)

COMMAND = ".venv/bin/python bench/bench_chat_filter.py"
SEED = 20_241_126
TERM_COUNTS = (1_000, 10_000)
CORPUS_SIZE = 1_000
ROUNDS = 3

PROFANITY = [
    "fuck", "shit", "cunt", "bitch", "bastard", "dickhead", "wanker", "asshole", "twat",
    "prick", "bollocks", "douchebag", "motherfucker", "jackass", "scumbag", "dipshit",
]  # fmt: skip
SYLLABLES = [
    "ka", "zu", "ri", "mo", "te", "vash", "plo", "gren", "dak", "fi", "nu", "bex", "sor",
    "lin", "tra", "quo", "mel", "jin", "harp", "wex", "oru", "stel", "nim", "cav",
]  # fmt: skip
CLEAN_LINES = [
    "lol that play was insane, gg everyone, see you all tomorrow",
    "hello from Brazil! love the stream, been watching for a year",
    "anyone know the song name? its been stuck in my head all day",
    "first time catching the stream live, this is actually great",
    "how long have you been playing this game? you are so good at it",
    "W streamer, see you all tomorrow night, have a good one chat",
    "can you turn the music down a bit please, cant hear you talk",
    "that boss fight took forever lmao, third try was the charm",
    "what settings do you use for the mouse? sensitivity and dpi",
    "I missed the start of the stream, what happened with the raid?",
    "the new patch ruined this character tbh, nerfed into the ground",
    "good morning chat, coffee time before work, hope you're all well",
    "no way he hit that shot from across the map, clip it somebody",
    "are you doing a giveaway this weekend or was that last month?",
    "chat is so wholesome today, love this community so much",
    "just subbed, keep it up! the editing on your videos is great",
    "is this run any% or 100%? the route looks different from last time",
    "my cat is watching the stream with me, she likes the music",
    "the audio is a bit out of sync with the video on my end",
    "that was the cleanest clutch I've seen all week honestly",
]
LINK_LINES = [
    "check out the clip https://clips.twitch.tv/FunnyMoment123",
    "full video here youtube.com/watch?v=dQw4w9WgXcQ",
    "join the discord discord.gg/abcdef",
    "my art is at www.example-art.com/gallery",
    "free skins at skins-free[.]xyz/claim",
]
EMOJI_LINES = [
    "\U0001f602\U0001f602\U0001f602 lol",
    "\U0001f525\U0001f525 W stream \U0001f525\U0001f525",
    "gg \U0001f44d\U0001f3fd",
    "hi from \U0001f1e7\U0001f1f7 \U0001f1f5\U0001f1f9",
    "family stream night \U0001f469\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f",
]


def main() -> None:
    rng = random.Random(SEED)
    all_terms = blocked_term_list(max(TERM_COUNTS), rng)
    print(f"# Chat filter benchmark\n\nCommand: `{COMMAND}`\n")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Python {platform.python_version()} on {platform.machine()} with "
        f"{os.cpu_count()} CPUs (load average {load} at start), seed {SEED}."
    )
    rows = []
    lengths = []
    for count in TERM_COUNTS:
        terms = all_terms[:count]
        corpus = chat_corpus(terms, random.Random(SEED + count))
        lengths.extend(map(len, corpus))
        rows.extend(run_for(terms, corpus))
    print(
        f"Corpus: {CORPUS_SIZE} messages per term count (mean "
        f"{statistics.fmean(lengths):.0f} characters), {ROUNDS} rounds each; CPU time "
        "per message.\n"
    )
    print(markdown_table(rows))
    print(
        "\n`engine ÷ loop` and `engine ÷ regex` divide the engine's median by the "
        "baseline's (below 1 means the engine is faster). The baselines do no evasion "
        "normalisation and ignore word boundaries, so they are faster than fair."
    )


def blocked_term_list(count: int, rng: random.Random) -> list[BlockedTerm]:
    """Profanity first, then distinct made-up words; most whole-word blocks."""
    words = list(PROFANITY)
    seen = set(words)
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    terms = []
    for word in words:
        roll = rng.random()
        if roll < 0.1:
            terms.append(BlockedTerm(word, "mask", whole_word=False))
        elif roll < 0.2:
            terms.append(BlockedTerm(word, "hold"))
        else:
            terms.append(BlockedTerm(word, "block"))
    return terms


def chat_corpus(terms: list[BlockedTerm], rng: random.Random) -> list[str]:
    """65% clean chat, 15% with a blocked term (half of them disguised), 10% links, 10% emoji."""
    messages = []
    for _ in range(CORPUS_SIZE):
        roll = rng.random()
        if roll < 0.65:
            messages.append(rng.choice(CLEAN_LINES))
        elif roll < 0.80:
            messages.append(dirty_message(rng.choice(terms).term, rng))
        elif roll < 0.90:
            messages.append(rng.choice(LINK_LINES))
        else:
            messages.append(rng.choice(EMOJI_LINES))
    return messages


def dirty_message(word: str, rng: random.Random) -> str:
    disguises = [
        lambda w: w,
        lambda w: w.upper(),
        lambda w: " ".join(w),
        lambda w: w.replace("i", "1").replace("o", "0").replace("e", "3"),
        lambda w: w[0] + w[1] * 4 + w[2:],
        lambda w: "\u200b".join(w),
        lambda w: w.replace("a", "\u0430").replace("o", "\u043e"),  # Cyrillic look-alikes
    ]
    disguise = disguises[0] if rng.random() < 0.5 else rng.choice(disguises[1:])
    line = rng.choice(CLEAN_LINES).split(" ")
    line.insert(rng.randrange(len(line) + 1), disguise(word))
    return " ".join(line)


def run_for(terms: list[BlockedTerm], corpus: list[str]) -> list[dict]:
    words = [term.term for term in terms]
    rows = []
    engine_terms, compile_ms = timed_compile(lambda: compile_filter(terms))
    rows.append(measure("engine, terms only", engine_terms.check, corpus, compile_ms, terms))
    engine_all, compile_ms = timed_compile(
        lambda: compile_filter(
            terms, LinkPolicy("allow_list", {"youtube.com", "twitch.tv"}), FloodLimits()
        )
    )
    rows.append(
        measure("engine, terms + links + flood", engine_all.check, corpus, compile_ms, terms)
    )

    def loop_baseline(text: str) -> list[str]:
        lowered = text.lower()
        return [word for word in words if word in lowered]

    rows.append(measure("baseline: loop of `in`", loop_baseline, corpus, 0.0, terms))
    pattern, compile_ms = timed_compile(lambda: re.compile("|".join(map(re.escape, words))))

    def regex_baseline(text: str) -> list[str]:
        return pattern.findall(text.lower())

    rows.append(measure("baseline: alternation regex", regex_baseline, corpus, compile_ms, terms))
    loop_median, regex_median = rows[2]["median"], rows[3]["median"]
    for row in rows[:2]:
        row["vs_loop"] = row["median"] / loop_median
        row["vs_regex"] = row["median"] / regex_median
    return rows


def timed_compile(build: Callable):
    started = time.process_time()
    built = build()
    return built, (time.process_time() - started) * 1000


def timer_overhead_ns() -> int:
    """What reading the timer twice costs, subtracted from every sample."""
    costs = []
    for _ in range(2_000):
        started = time.thread_time_ns()
        costs.append(time.thread_time_ns() - started)
    return int(statistics.median(costs))


def measure(name: str, check: Callable, corpus: list[str], compile_ms: float, terms) -> dict:
    for text in corpus[:50]:  # warm caches (character tables, regex) once
        check(text)
    overhead = timer_overhead_ns()
    samples = []
    flagged = 0
    for round_number in range(ROUNDS):
        for text in corpus:
            started = time.thread_time_ns()
            result = check(text)
            samples.append(max(0, time.thread_time_ns() - started - overhead))
            if round_number == 0:
                flagged += _flagged(result)
    samples.sort()
    return {
        "terms": len(terms),
        "name": name,
        "compile_ms": compile_ms,
        "median": statistics.median(samples) / 1000,
        "p99": samples[int(len(samples) * 0.99) - 1] / 1000,
        "flagged": flagged,
    }


def _flagged(result) -> int:
    if isinstance(result, list):
        return int(bool(result))
    return int(result.action != "allow")


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| terms | implementation | compile ms | median µs/msg | p99 µs/msg | flagged "
        "| engine ÷ loop | engine ÷ regex |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        vs_loop = f"{row['vs_loop']:.3f}" if "vs_loop" in row else ""
        vs_regex = f"{row['vs_regex']:.3f}" if "vs_regex" in row else ""
        lines.append(
            f"| {row['terms']:,} | {row['name']} | {row['compile_ms']:.0f} | "
            f"{row['median']:.1f} | {row['p99']:.1f} | {row['flagged']} | "
            f"{vs_loop} | {vs_regex} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
