import pytest

from streaming.rtmp import handshake
from streaming.rtmp.errors import ProtocolError

C1 = bytes(range(256)) * 6


def test_reply_is_version_s1_and_c1_echoed_as_s2():
    reply = handshake.server_reply(b"\x03" + C1)
    assert len(reply) == 1 + 2 * handshake.PACKET_SIZE
    assert reply[0] == 3
    # A zero version field in S1 tells digest-capable clients to use the simple scheme.
    assert reply[5:9] == bytes(4)
    assert reply[1 + handshake.PACKET_SIZE :] == C1


def test_each_s1_carries_fresh_random_bytes():
    first = handshake.server_reply(b"\x03" + C1)
    second = handshake.server_reply(b"\x03" + C1)
    assert first[9 : handshake.PACKET_SIZE + 1] != second[9 : handshake.PACKET_SIZE + 1]


@pytest.mark.parametrize("version", [0, 6, 71, 255])
def test_other_versions_are_refused(version):
    with pytest.raises(ProtocolError, match="unsupported RTMP version"):
        handshake.server_reply(bytes([version]) + C1)


def test_short_greetings_are_refused():
    with pytest.raises(ProtocolError, match="wrong size"):
        handshake.server_reply(b"\x03" + C1[:100])
    with pytest.raises(ProtocolError, match="wrong size"):
        handshake.check_client_ack(C1[:-1])
