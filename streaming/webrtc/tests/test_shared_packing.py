"""A room's forwarded frame is cut into RTP payloads once, whatever its viewers."""

from fractions import Fraction

import av
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.opus import OpusEncoder

import streaming.webrtc.relay  # noqa: F401  (installs the shared packing)
from streaming.webrtc.tests.test_matroska import encoded_video


def packet_of(data: bytes, pts: int, clock: int) -> av.Packet:
    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = Fraction(1, clock)
    return packet


def test_every_viewer_gets_one_packetizing_of_a_frame(monkeypatch):
    packetized = []
    original = H264Encoder._packetize.__func__

    def counting(cls, packages):
        packetized.append(1)
        return original(cls, packages)

    monkeypatch.setattr(H264Encoder, "_packetize", classmethod(counting))
    frame = encoded_video("h264", 1)[0]  # a keyframe: SPS, PPS, IDR in FU-A fragments
    packet = packet_of(frame.data, 3000, 90000)
    viewers = [H264Encoder() for _ in range(5)]
    packed = [viewer.pack(packet) for viewer in viewers]
    assert len(packetized) == 1
    assert all(result == packed[0] for result in packed)
    payloads, timestamp = packed[0]
    assert timestamp == 3000 and len(payloads) >= 1


def test_a_new_frame_is_packetized_anew():
    first, second = (encoded_video("h264", 2)[i] for i in range(2))
    viewer = H264Encoder()
    one = viewer.pack(packet_of(first.data, 0, 90000))
    two = viewer.pack(packet_of(second.data, 3000, 90000))
    assert one != two and two[1] == 3000


def test_opus_packets_are_shared_as_they_are():
    packet = packet_of(b"\xfc" + bytes(80), 960, 48000)
    first, second = OpusEncoder().pack(packet), OpusEncoder().pack(packet)
    assert first is second and first == ([bytes(packet)], 960)
