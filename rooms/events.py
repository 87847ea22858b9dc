"""Builders of the real-time events the rooms app sends (shapes in docs/protocol.md)."""


def room_status(room) -> dict:
    return {
        "type": "room.status",
        "room": room.slug,
        "status": room.status,
        "stream": room.current_stream_id,
    }


KEYFRAME_INTERVAL_WARNING = 2.0  # seconds; longer keyframe intervals lengthen segments
SLOW_TRANSCODER_WARNING = 0.9  # realtime factor below which viewers will stall


def stream_health(room, health: dict) -> dict:
    """What the broadcaster's stream manager shows, from a transcoder `health` event
    (streaming/transcoder/events.py), with the warnings it should raise."""
    warnings = []
    interval = health.get("keyframe_interval")
    if interval is not None and interval > KEYFRAME_INTERVAL_WARNING + 0.05:
        warnings.append("keyframe_interval")
    speed = health.get("speed")
    if speed is not None and speed < SLOW_TRANSCODER_WARNING:
        warnings.append("slow_transcoder")
    fields = ("input_bitrate", "fps", "width", "height", "video_codec", "audio_codec",
              "keyframe_interval", "speed")  # fmt: skip
    return {
        "type": "stream.health",
        "room": room.slug,
        **{name: health.get(name) for name in fields},
        "warnings": warnings,
    }
