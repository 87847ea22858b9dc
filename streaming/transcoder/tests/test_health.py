"""The numbers in health events, measured on what arrives (no media needed)."""


from streaming.transcoder.health import HealthMonitor


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def monitor(clock) -> HealthMonitor:
    return HealthMonitor(
        width=1280, height=720, video_codec="h264", audio_codec="aac", clock=clock
    )


def test_report_measures_rate_interval_and_speed():
    clock = FakeClock()
    health = monitor(clock)
    for frame in range(61):  # two seconds at 30 fps, a keyframe every second
        health.record_packet(10_000, frame / 30, video=True, keyframe=frame % 30 == 0)
    clock.now += 4.0  # processed at half real time
    report = health.report()
    assert report["fps"] == 30.0
    assert report["keyframe_interval"] == 1.0
    assert report["input_bitrate"] == 61 * 10_000 * 8 / 2
    assert report["speed"] == 0.5
    assert (report["width"], report["height"], report["video_codec"]) == (1280, 720, "h264")


def test_report_without_new_packets_is_empty_not_an_error():
    clock = FakeClock()
    health = monitor(clock)
    health.record_packet(1_000, 0.0, video=True, keyframe=True)
    health.record_packet(1_000, 1.0, video=True, keyframe=False)
    health.report()
    clock.now += 2.0
    report = health.report()
    assert (report["fps"], report["input_bitrate"], report["speed"]) == (0.0, 0, 0.0)


def test_damage_counters_accumulate_across_reports():
    health = monitor(FakeClock())
    health.record_corrupt_packet()
    health.record_decode_error()
    health.report()
    health.record_corrupt_frame()
    health.record_dropped_packet()
    report = health.report()
    assert [report[k] for k in ("corrupt_packets", "decode_errors", "corrupt_frames")] == [1, 1, 1]
    assert report["dropped_packets"] == 1
