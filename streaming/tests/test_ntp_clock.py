"""The replacement of aiortc's wall clock gives aiortc's own values."""

import datetime

from aiortc import clock

from streaming.webrtc import ntp_clock, relay  # noqa: F401  (relay installs the clock)


def _ntp_from_datetime() -> int:
    return clock.datetime_to_ntp(clock.current_datetime())


def test_aiortc_reads_the_replacement_clock_once_the_relay_is_loaded():
    assert clock.current_ntp_time is ntp_clock.current_ntp_time
    assert clock.current_ms is ntp_clock.current_ms


def test_the_ntp_time_agrees_with_aiortcs_datetime_arithmetic():
    before = _ntp_from_datetime()
    ours = ntp_clock.current_ntp_time()
    after = _ntp_from_datetime()
    assert before - (1 << 22) <= ours <= after + (1 << 22)  # within 1 ms either side
    # abs-send-time (6.18 fixed point) and sender reports read it back as a datetime.
    back = clock.datetime_from_ntp(ours)
    assert abs(back - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(seconds=1)


def test_the_milliseconds_agree_with_aiortcs():
    delta = clock.current_datetime() - clock.NTP_EPOCH
    expected = int(delta.total_seconds() * 1000)
    assert abs(ntp_clock.current_ms() - expected) <= 5
