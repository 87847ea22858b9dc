"""Once-per-window gates: one caller through per window, across processes."""

import time

from gifts import gates


def test_one_caller_through_per_window_then_the_next():
    assert gates.pass_once("room:1", window=0.3, recheck=0.05)
    assert not gates.pass_once("room:1", window=0.3, recheck=0.05)
    assert gates.pass_once("room:2", window=0.3, recheck=0.05)  # gates are independent
    time.sleep(1.1)  # the window runs out; the embedded cache counts whole seconds
    gates.forget()
    assert gates.pass_once("room:1", window=0.3, recheck=0.05)


def test_a_process_that_lost_waits_for_the_winners_window_to_end(redis_url):
    assert gates.pass_once("stats:7", window=0.5, recheck=0.01)
    gates.forget()  # now another process: it knows nothing yet

    before = time.monotonic()
    assert not gates.pass_once("stats:7", window=0.5, recheck=0.01)
    shut_for = gates._shut_until["stats:7"] - before
    assert 0.3 < shut_for < 0.55  # the rest of the winner's window (from Redis), not `recheck`

    time.sleep(0.6)  # time passing is the point: the winner's window runs out
    assert gates.pass_once("stats:7", window=0.5, recheck=0.01)  # a new window opens
